// Unit tests of the page's plain TypeScript modules (no DOM): the
// temperature history, terminal filters and formatting. Each module is
// transpiled with the project's TypeScript and imported from a temp folder.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const lib = resolve(dirname(fileURLToPath(import.meta.url)), '../src/lib');
const out = mkdtempSync(join(tmpdir(), 'cuttle-web-unit-'));

async function load(name) {
  const src = readFileSync(join(lib, `${name}.ts`), 'utf8');
  const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2020, verbatimModuleSyntax: true } }).outputText;
  const file = join(out, `${name}.mjs`);
  writeFileSync(file, js.replace(/from '\.\/(\w+)'/g, "from './$1.mjs'"));
  return import(pathToFileURL(file).href);
}

const { TempHistory } = await load('history');
const { compileFilters, defaultFilters } = await load('terminal');
const fmt = await load('format');

test('TempHistory aligns heaters that appear late and drops points out of order', () => {
  const h = new TempHistory(10);
  h.add([{ time: 1, tool0: { actual: 20, target: 0 } }]);
  h.add([{ time: 2, tool0: { actual: 21, target: 200 }, bed: { actual: 22, target: 60 } }]);
  h.add([{ time: 1, tool0: { actual: 99, target: 99 } }]); // older than the last point
  assert.deepEqual(h.time, [1, 2]);
  assert.deepEqual(h.heaters.get('tool0'), { actual: [20, 21], target: [0, 200] });
  assert.deepEqual(h.heaters.get('bed'), { actual: [null, 22], target: [null, 60] });
  h.add([{ time: 3, tool0: { actual: 22, target: null } }]); // bed missing from this point
  assert.deepEqual(h.heaters.get('bed').actual, [null, 22, null]);
  assert.deepEqual(h.heaters.get('tool0').target, [0, 200, null]);
});

test('TempHistory keeps at most max points, dropping the oldest', () => {
  const h = new TempHistory(3);
  for (let t = 1; t <= 5; t++) h.add([{ time: t, tool0: { actual: t, target: 0 } }]);
  assert.deepEqual(h.time, [3, 4, 5]);
  assert.deepEqual(h.heaters.get('tool0').actual, [3, 4, 5]);
  assert.equal(h.add([]), false);
  assert.equal(h.add(undefined), false);
});

test('TempHistory orders keys: tools, bed, chamber, others', () => {
  const h = new TempHistory();
  h.add([{ time: 1, chamber: { actual: 1, target: 0 }, bed: { actual: 1, target: 0 }, tool1: { actual: 1, target: 0 }, tool0: { actual: 1, target: 0 }, probe: { actual: 1, target: 0 } }]);
  assert.deepEqual(h.keys(), ['tool0', 'tool1', 'bed', 'chamber', 'probe']);
});

test('terminal filters hide what they name and only when enabled', () => {
  const names = new Set(defaultFilters.map((f) => f.name));
  const hide = compileFilters(defaultFilters, names);
  const cases = [
    ['Send: N5 M105*34', true],
    ['Recv: ok T:210.0 /210.0 B:60.0 /60.0 @:0 B@:0', true],
    ['Recv:  T:25.0 /0.0 B:25.0 /0.0', true],
    ['Send: M27', true],
    ['Recv: SD printing byte 1234/5678', true],
    ['Recv: wait', true],
    ['Recv: echo:busy: processing', true],
    ['Send: N6 M115*36', false],
    ['Recv: FIRMWARE_NAME:Marlin 2.1.2.4', false],
    ['Recv: ok', false],
  ];
  for (const [line, hidden] of cases) assert.equal(hide(line), hidden, line);
  const none = compileFilters(defaultFilters, new Set());
  assert.equal(none('Send: N5 M105*34'), false);
  const bad = compileFilters([{ name: 'bad', regex: '([' }], new Set(['bad']));
  assert.equal(bad('anything'), false, 'an invalid pattern must hide nothing');
});

test('formatting', () => {
  const cases = [
    [fmt.duration(3723), '1h 02m 03s'],
    [fmt.duration(65), '1m 05s'],
    [fmt.duration(9.6), '10s'],
    [fmt.duration(null), '–'],
    [fmt.duration(-1), '–'],
    [fmt.bytes(512), '512 B'],
    [fmt.bytes(1536), '1.5 KiB'],
    [fmt.bytes(1485837), '1.4 MiB'],
    [fmt.temp(204.96), '205.0°C'],
    [fmt.temp(null), '–'],
    [fmt.heaterName('tool1'), 'Tool 1'],
    [fmt.heaterName('chamber'), 'Chamber'],
    [fmt.finishAt(null), '–'],
  ];
  for (const [got, want] of cases) assert.equal(got, want);
});

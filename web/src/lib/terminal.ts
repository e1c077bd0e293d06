// Terminal line filters: hide the noise of temperature polls and SD status.

export interface TerminalFilter {
  name: string;
  regex: string;
}

/** Filters used when the server's settings name none. */
export const defaultFilters: TerminalFilter[] = [
  { name: 'Suppress temperature messages', regex: '(Send: (N\\d+\\s+)?M105)|(Recv:\\s+(ok\\s+([PBN]\\d+\\s+)*)?([BCLPR]|T\\d*):-?\\d+)' },
  { name: 'Suppress SD status messages', regex: '(Send: (N\\d+\\s+)?M27)|(Recv: SD printing byte)|(Recv: Not SD printing)' },
  { name: 'Suppress wait responses', regex: 'Recv: wait' },
  { name: 'Suppress processing responses', regex: 'Recv: (echo:\\s*)?busy:\\s*processing' },
];

/** Compiles the enabled filters into one predicate that says whether a line is hidden. */
export function compileFilters(filters: TerminalFilter[], enabled: Set<string>): (line: string) => boolean {
  const res: RegExp[] = [];
  for (const f of filters) {
    if (!enabled.has(f.name)) continue;
    try {
      res.push(new RegExp(f.regex));
    } catch {
      /* a bad pattern from settings hides nothing */
    }
  }
  return (line) => res.some((r) => r.test(line));
}

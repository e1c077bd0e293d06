// The page's shared state: who is logged in, the printer as the push API
// (or, while it is unavailable, REST polling) reports it, and the UI's own
// toasts, dialogs and prompts.

import { ApiError, call, command, get, post, setUnauthorizedHook } from './api';
import { TempHistory } from './history';
import { Push } from './push';
import type {
  AccessRequest,
  CurrentPayload,
  FilesResponse,
  Flags,
  HeaterReading,
  IdleOff,
  JobInfo,
  JobResponse,
  LoginRecord,
  PowerStatus,
  PrinterResponse,
  Progress,
  Relay,
  TempPoint,
} from './types';

export type Phase = 'loading' | 'setup' | 'login' | 'ready';

const noFlags: Flags = {
  operational: false,
  printing: false,
  cancelling: false,
  pausing: false,
  resuming: false,
  finishing: false,
  closedOrError: false,
  error: false,
  paused: false,
  ready: false,
  sdReady: false,
};

const emptyJob: JobInfo = {
  file: { name: null, path: null, origin: null, size: null, date: null },
  estimatedPrintTime: null,
};
const emptyProgress: Progress = { completion: null, filepos: null, printTime: null, printTimeLeft: null };

export interface Toast {
  id: number;
  kind: 'info' | 'success' | 'warning' | 'error';
  text: string;
}

const MAX_LOG_LINES = 1000;

export const app = $state({
  phase: 'loading' as Phase,
  user: null as LoginRecord | null,
  loginError: '',
  pushConnected: false,
  /** The push socket has been down for a few seconds (the header says so). */
  pushDown: false,
  state: { text: 'Offline', flags: { ...noFlags }, error: '' as string | undefined },
  job: emptyJob as JobInfo,
  progress: emptyProgress as Progress,
  currentZ: null as number | null,
  temps: {} as Record<string, HeaterReading>,
  historyVersion: 0,
  logVersion: 0,
  filesVersion: 0,
  settingsVersion: 0,
  /** Bumped when application keys change (a request decided here or elsewhere). */
  appKeysVersion: 0,
  busyFiles: [] as { origin: string; path: string }[],
  settings: null as Record<string, any> | null,
  psu: null as boolean | null,
  psuError: '',
  relays: [] as Relay[],
  psuRelay: 'psu',
  idleOff: null as IdleOff | null,
  toasts: [] as Toast[],
  requests: [] as AccessRequest[],
  theme: 'auto' as 'auto' | 'light' | 'dark',
  /** Whether the configured webcam answers: the Webcam tab shows only when it does. */
  webcam: 'unknown' as 'unknown' | 'ok' | 'none',
});

/** Temperature history; not deeply reactive (it changes every second), watch app.historyVersion. */
export const history = new TempHistory();
/** Terminal lines; watch app.logVersion. */
export const logs: string[] = [];

let toastId = 0;

/** Shows a toast that disappears after a while (errors stay longer). */
export function toast(text: string, kind: Toast['kind'] = 'info'): void {
  const id = ++toastId;
  app.toasts.push({ id, kind, text });
  if (app.toasts.length > 5) app.toasts.splice(0, app.toasts.length - 5);
  setTimeout(() => dismiss(id), kind === 'error' ? 10000 : 5000);
}

/** Removes a toast. */
export function dismiss(id: number): void {
  const i = app.toasts.findIndex((t) => t.id === id);
  if (i >= 0) app.toasts.splice(i, 1);
}

/** Runs an action and turns its failure into an error toast. Returns whether it succeeded. */
export async function attempt(what: string, fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (e) {
    toast(`${what}: ${e instanceof Error ? e.message : String(e)}`, 'error');
    return false;
  }
}

// ---- confirmation dialog -------------------------------------------------

export const dialog = $state({
  open: false,
  title: '',
  text: '',
  confirm: 'OK',
  danger: false,
});
let dialogResolve: ((ok: boolean) => void) | null = null;

/** Asks the user to confirm; resolves true when they do. */
export function confirm(title: string, text: string, confirmLabel = 'OK', danger = true): Promise<boolean> {
  dialogResolve?.(false);
  Object.assign(dialog, { open: true, title, text, confirm: confirmLabel, danger });
  return new Promise((resolve) => (dialogResolve = resolve));
}

/** Closes the confirmation dialog with the user's answer. */
export function answer(ok: boolean): void {
  dialog.open = false;
  const r = dialogResolve;
  dialogResolve = null;
  r?.(ok);
}

// ---- theme ---------------------------------------------------------------

/** Applies and remembers the colour theme. */
export function setTheme(t: 'auto' | 'light' | 'dark'): void {
  app.theme = t;
  try {
    localStorage.setItem('cuttle.theme', t);
  } catch {
    /* private mode */
  }
  if (t === 'auto') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', t);
}

// ---- printer state -------------------------------------------------------

let lastPush = 0;
let lastPushJob = 0;

function applyCurrent(c: CurrentPayload, fromHistory: boolean): void {
  if (c.state) {
    const prev = app.state.text;
    app.state = { text: c.state.text, flags: { ...noFlags, ...c.state.flags }, error: c.state.error };
    if (prev !== c.state.text && c.state.flags?.operational && !app.settings) void loadSettings();
  }
  if (c.job) app.job = c.job;
  if (c.progress) {
    app.progress = c.progress;
    lastPushJob = Date.now();
  }
  if (c.currentZ !== undefined) app.currentZ = c.currentZ;
  if (c.busyFiles) app.busyFiles = c.busyFiles;
  if (fromHistory) history.reset();
  if (c.temps && c.temps.length) {
    history.add(c.temps);
    const last = c.temps[c.temps.length - 1];
    const temps: Record<string, HeaterReading> = {};
    for (const [k, v] of Object.entries(last)) {
      if (k === 'time' || !v || typeof v !== 'object') continue;
      temps[k] = { ...(v as HeaterReading), offset: c.offsets?.[k] ?? app.temps[k]?.offset ?? 0 };
    }
    app.temps = temps;
  } else if (c.offsets) {
    for (const [k, off] of Object.entries(c.offsets)) if (app.temps[k]) app.temps[k].offset = off;
  }
  if (fromHistory || (c.temps && c.temps.length)) app.historyVersion++;
  if (fromHistory) logs.length = 0;
  if (c.logs && c.logs.length) {
    logs.push(...c.logs);
    if (logs.length > MAX_LOG_LINES) logs.splice(0, logs.length - MAX_LOG_LINES);
  }
  if (fromHistory || (c.logs && c.logs.length)) app.logVersion++;
}

function applyPrinter(p: PrinterResponse): void {
  app.state = { text: p.state.text, flags: { ...noFlags, ...p.state.flags }, error: p.state.error };
  const t = p.temperature;
  if (!t) return;
  const point: TempPoint = { time: Math.floor(Date.now() / 1000) };
  const temps: Record<string, HeaterReading> = {};
  for (const [k, v] of Object.entries(t)) {
    if (k === 'history' || !v || Array.isArray(v)) continue;
    temps[k] = v as HeaterReading;
    point[k] = { actual: (v as HeaterReading).actual, target: (v as HeaterReading).target };
  }
  app.temps = temps;
  if (history.add([point])) app.historyVersion++;
}

function applyJob(j: JobResponse): void {
  app.job = j.job ?? emptyJob;
  app.progress = j.progress ?? emptyProgress;
  if (!app.state.flags.operational && j.state) app.state.text = j.state;
}

async function pollJob(): Promise<JobResponse | null> {
  try {
    const j = await get<JobResponse>('/api/job');
    applyJob(j);
    return j;
  } catch {
    return null; // job API not available
  }
}

/** Fetches the printer state over REST (used at start and while push is down). */
export async function poll(): Promise<void> {
  const j = await pollJob();
  try {
    const p = await get<PrinterResponse>('/api/printer');
    applyPrinter(p);
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) {
      // Not operational: /api/job still names the state (Offline, Error: …).
      app.state = { text: j?.state || 'Offline', flags: { ...noFlags, closedOrError: true }, error: j?.error ?? '' };
      app.temps = {};
    }
  }
}

const eventToasts: Record<string, (p: any) => [string, Toast['kind']] | null> = {
  PrintDone: (p) => [`Print done: ${p?.name ?? ''}`, 'success'],
  PrintFailed: (p) => (p?.reason === 'cancelled' ? null : [`Print failed: ${p?.name ?? ''}`, 'error']),
  PrintCancelled: (p) => [`Print cancelled: ${p?.name ?? ''}`, 'warning'],
  PrintStarted: (p) => [`Print started: ${p?.name ?? ''}`, 'info'],
  PrintPaused: () => ['Print paused', 'info'],
  PrintResumed: () => ['Print resumed', 'info'],
  Connected: (p) => [`Connected to ${p?.port ?? 'printer'}`, 'success'],
  Disconnected: () => ['Disconnected from printer', 'warning'],
  Error: (p) => [`Printer error: ${p?.error ?? 'unknown'}`, 'error'],
  PowerOffWarning: (p) => [`The ${p?.relay ?? 'power supply'} switches off${p?.seconds ? ` in ${p.seconds} s` : ' soon'} (idle)`, 'warning'],
  PowerOffCancelled: (p) => [`Idle power-off cancelled${p?.reason ? `: ${p.reason}` : ''}`, 'info'],
  Upload: (p) => [`Uploaded ${p?.name ?? ''}`, 'success'],
};

function onEvent(ev: { type: string; payload: any }): void {
  const make = eventToasts[ev.type];
  const t = make?.(ev.payload);
  if (t) toast(t[0], t[1]);
  if (/^(File|Folder)(Added|Removed|Moved)$|^UpdatedFiles$|^MetadataAnalysisFinished$|^Upload$/.test(ev.type)) app.filesVersion++;
  if (ev.type === 'SettingsUpdated') void loadSettings();
  if (/^Print|^File(Selected|Deselected)$/.test(ev.type)) void pollJob();
  if (/^(PowerOn|PowerOff|RelayChanged|PowerOffWarning|PowerOffCancelled)$/.test(ev.type)) void loadPower();
}

function onPlugin(p: { plugin: string; data: any }): void {
  const d = p.data ?? {};
  if (p.plugin === 'psucontrol' && typeof d.isPSUOn === 'boolean') {
    app.psu = d.isPSUOn;
    void loadPower();
  } else if (p.plugin === 'appkeys') {
    if (d.type === 'request_access' && d.user_token && !app.requests.some((r) => r.user_token === d.user_token)) {
      app.requests.push({ app_name: d.app_name, user_token: d.user_token, user_id: d.user_id, remote_address: d.remote_address });
    } else if (d.type === 'end_request') {
      app.requests = app.requests.filter((r) => r.user_token !== d.user_token);
      app.appKeysVersion++;
    }
  }
}

function onPush(type: string, payload: unknown): void {
  switch (type) {
    case 'history':
      lastPush = Date.now();
      applyCurrent(payload as CurrentPayload, true);
      break;
    case 'current':
      lastPush = Date.now();
      applyCurrent(payload as CurrentPayload, false);
      break;
    case 'event':
      onEvent(payload as { type: string; payload: unknown });
      break;
    case 'plugin':
      onPlugin(payload as { plugin: string; data: unknown });
      break;
    case 'reauthRequired':
      void reauth();
      break;
  }
}

let pushDownTimer: ReturnType<typeof setTimeout> | null = null;

function pushStatus(connected: boolean): void {
  app.pushConnected = connected;
  if (pushDownTimer) clearTimeout(pushDownTimer);
  pushDownTimer = null;
  if (connected) app.pushDown = false;
  else pushDownTimer = setTimeout(() => (app.pushDown = !app.pushConnected), 3000);
}

const push = new Push({
  onMessage: onPush,
  onStatus: pushStatus,
  credentials: () => (app.user?.name && app.user.session ? `${app.user.name}:${app.user.session}` : null),
});

let pollTimer: ReturnType<typeof setInterval> | null = null;

function startLive(): void {
  pushStatus(false);
  push.start();
  void poll();
  if (pollTimer) clearInterval(pollTimer);
  // REST polling only while the push stream is silent (not landed, or down).
  pollTimer = setInterval(() => {
    if (document.hidden) return;
    const now = Date.now();
    if (now - lastPush > 5000) void poll();
    // A push server that reports no job progress: fetch it.
    else if (now - lastPushJob > 5000) void pollJob();
    if (app.idleOff?.pending) void loadPower();
  }, 2000);
}

function stopLive(): void {
  push.stop();
  if (pushDownTimer) clearTimeout(pushDownTimer);
  app.pushDown = false;
  if (pollTimer) clearInterval(pollTimer);
  pollTimer = null;
}

// ---- settings and power --------------------------------------------------

/** Loads /api/settings into app.settings. */
export async function loadSettings(): Promise<void> {
  try {
    app.settings = await get<Record<string, any>>('/api/settings');
    app.settingsVersion++;
    probeWebcam(app.settings.webcam);
  } catch {
    /* settings API not available yet */
  }
}

let webcamProbe: HTMLImageElement | null = null;

/**
 * Loads one image from the configured webcam (the snapshot, else the first
 * frame of the stream) to learn whether there is a camera at all; the
 * default URLs point at a streamer that most printers do not run.
 */
function probeWebcam(cam: { webcamEnabled?: boolean; streamUrl?: string; snapshotUrl?: string } | undefined): void {
  if (webcamProbe) webcamProbe.src = '';
  const url = cam?.webcamEnabled ? cam.snapshotUrl || cam.streamUrl : '';
  if (!url) {
    app.webcam = 'none';
    return;
  }
  const img = new Image();
  webcamProbe = img;
  const done = (ok: boolean) => {
    if (webcamProbe !== img) return;
    clearTimeout(timer);
    app.webcam = ok ? 'ok' : 'none';
    img.src = ''; // stop a stream
    webcamProbe = null;
  };
  const timer = setTimeout(() => done(false), 8000);
  img.onload = () => done(true);
  img.onerror = () => done(false);
  img.src = url;
}

/** Loads PSU and relay state. */
export async function loadPower(): Promise<void> {
  try {
    const r = await get<{ isPSUOn: boolean }>('/api/plugin/psucontrol');
    app.psu = r.isPSUOn;
    app.psuError = '';
  } catch (e) {
    app.psu = null;
    app.psuError = e instanceof Error ? e.message : '';
  }
  try {
    const r = await get<PowerStatus>('/api/cuttle/power');
    app.relays = r.relays ?? [];
    app.psuRelay = r.psu ?? 'psu';
    app.idleOff = r.idleOff ?? null;
  } catch {
    app.relays = [];
    app.idleOff = null;
  }
}

/** Loads pending application-key requests the user may decide. */
async function loadRequests(): Promise<void> {
  try {
    const r = await get<{ pending?: Record<string, { app_id: string; user_id?: string; user_token: string; remote_address?: string }> }>('/api/plugin/appkeys');
    app.requests = Object.values(r.pending ?? {}).map((p) => ({ app_name: p.app_id, user_token: p.user_token, user_id: p.user_id, remote_address: p.remote_address }));
  } catch {
    /* app keys API not available */
  }
}

// ---- session -------------------------------------------------------------

function enter(rec: LoginRecord): void {
  app.user = rec;
  app.phase = 'ready';
  app.loginError = '';
  startLive();
  void loadSettings();
  void loadPower();
  void loadRequests();
}

function toLogin(): void {
  stopLive();
  app.user = null;
  app.phase = 'login';
}

/** Whether the server still waits for its first admin. */
async function setupNeeded(): Promise<boolean> {
  try {
    const r = await call<Record<string, unknown>>('GET', '/api/cuttle/setup', undefined, { quiet401: true });
    for (const k of ['needed', 'needsSetup', 'setupNeeded', 'required', 'firstRun']) {
      if (typeof r?.[k] === 'boolean') return r[k] as boolean;
    }
    if (typeof r?.done === 'boolean') return !r.done;
    if (typeof r?.complete === 'boolean') return !r.complete;
    return false;
  } catch {
    return false;
  }
}

/** Decides the first screen: setup, login, or straight in with a live session. */
export async function bootstrap(): Promise<void> {
  setUnauthorizedHook(() => {
    if (app.phase === 'ready') void reauth();
  });
  // Both questions at once: the first screen waits on one round trip.
  const [needed, rec] = await Promise.all([
    setupNeeded(),
    call<LoginRecord>('POST', '/api/login', { passive: true }, { quiet401: true }).catch(() => null),
  ]);
  if (needed) {
    app.phase = 'setup';
    return;
  }
  if (rec?.name && rec.name !== '_api') {
    enter(rec);
    return;
  }
  toLogin();
}

let reauthing = false;

async function reauth(): Promise<void> {
  if (reauthing) return;
  reauthing = true;
  try {
    const rec = await call<LoginRecord>('POST', '/api/login', { passive: true }, { quiet401: true });
    if (rec?.name && rec.session) {
      app.user = rec;
      push.start();
      return;
    }
    toLogin();
    app.loginError = 'Your session has ended; please log in again.';
  } catch {
    toLogin();
    app.loginError = 'Your session has ended; please log in again.';
  } finally {
    reauthing = false;
  }
}

/** Logs in with a password. */
export async function login(user: string, pass: string, remember: boolean): Promise<void> {
  app.loginError = '';
  try {
    const rec = await call<LoginRecord>('POST', '/api/login', { user, pass, remember }, { quiet401: true });
    enter(rec);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) app.loginError = 'Wrong user name or password.';
    else if (e instanceof ApiError && e.status === 429) app.loginError = 'Too many attempts; wait a minute and try again.';
    else app.loginError = e instanceof Error ? e.message : String(e);
  }
}

/** Creates the first admin, then logs in as it. */
export async function setup(user: string, pass: string): Promise<void> {
  app.loginError = '';
  try {
    await call('POST', '/api/cuttle/setup', { user, pass }, { quiet401: true });
  } catch (e) {
    app.loginError = e instanceof Error ? e.message : String(e);
    return;
  }
  await login(user, pass, false);
}

/** Ends the session. */
export async function logout(): Promise<void> {
  try {
    await post('/api/logout');
  } catch {
    /* the session may already be gone */
  }
  toLogin();
}

/** Whether the logged-in user holds a permission (ADMIN holds all). */
export function can(perm: string): boolean {
  const p = app.user?.permissions;
  if (!p) return !!app.user?.admin;
  return p.includes(perm) || p.includes('ADMIN') || !!app.user?.admin;
}

// ---- actions used by several panels ---------------------------------------

/** Sends G-code lines to the printer. */
export function sendCommands(lines: string[]): Promise<unknown> {
  return post('/api/printer/command', { commands: lines });
}

/** Sends a job command (start, cancel, pause with action, restart). */
export function jobCommand(name: string, args: Record<string, unknown> = {}): Promise<unknown> {
  return command('/api/job', name, args);
}

/** Lists the files of every storage (local, recursively, and the SD card when there is one). */
export function listFiles(): Promise<FilesResponse> {
  return get<FilesResponse>('/api/files?recursive=true');
}

// Shapes of the OctoPrint-compatible REST and push API that the UI reads.
// Only the fields the UI uses are declared; the server may send more.

export interface Flags {
  operational: boolean;
  printing: boolean;
  cancelling: boolean;
  pausing: boolean;
  resuming: boolean;
  finishing: boolean;
  closedOrError: boolean;
  error: boolean;
  paused: boolean;
  ready: boolean;
  sdReady: boolean;
}

export interface PrinterStateInfo {
  text: string;
  flags: Flags;
  error?: string;
}

export interface HeaterReading {
  actual: number | null;
  target: number | null;
  offset?: number;
}

export interface TempPoint {
  time: number;
  [heater: string]: HeaterReading | number;
}

export interface JobFile {
  name: string | null;
  path: string | null;
  display?: string | null;
  origin: string | null;
  size: number | null;
  date: number | null;
}

export interface JobInfo {
  file: JobFile;
  estimatedPrintTime: number | null;
  averagePrintTime?: number | null;
  lastPrintTime?: number | null;
  filament?: Record<string, { length: number; volume: number }> | null;
  user?: string | null;
}

export interface Progress {
  completion: number | null;
  filepos: number | null;
  printTime: number | null;
  printTimeLeft: number | null;
  printTimeLeftOrigin?: string | null;
}

export interface JobResponse {
  job: JobInfo;
  progress: Progress;
  state: string;
  error?: string;
}

export interface PrinterResponse {
  temperature?: Record<string, HeaterReading | TempPoint[]> & { history?: TempPoint[] };
  sd?: { ready: boolean };
  state: PrinterStateInfo;
}

export interface CurrentPayload {
  state?: PrinterStateInfo;
  job?: JobInfo;
  progress?: Progress;
  currentZ?: number | null;
  offsets?: Record<string, number>;
  temps?: TempPoint[];
  logs?: string[];
  messages?: string[];
  busyFiles?: { origin: string; path: string }[];
  serverTime?: number;
}

export interface LoginRecord {
  name?: string;
  session?: string;
  active?: boolean;
  admin?: boolean;
  apikey?: string | null;
  permissions?: string[];
  groups?: string[];
  needs?: { role?: string[]; group?: string[] };
}

export interface GcodeAnalysis {
  estimatedPrintTime?: number | null;
  filament?: Record<string, { length?: number; volume?: number }>;
  dimensions?: { width?: number; depth?: number; height?: number };
}

export interface FileEntry {
  name: string;
  display?: string;
  path: string;
  type: string;
  typePath?: string[];
  origin: string;
  size?: number;
  date?: number;
  refs?: { resource?: string; download?: string };
  gcodeAnalysis?: GcodeAnalysis;
  prints?: { success?: number; failure?: number; last?: { date?: number; success?: boolean } };
  thumbnail?: string;
  children?: FileEntry[];
}

export interface FilesResponse {
  files: FileEntry[];
  free?: number;
  total?: number;
}

export interface ConnectionResponse {
  current: { state: string; port: string | null; baudrate: number | null; printerProfile: string | null };
  options: {
    ports: string[];
    baudrates: number[];
    printerProfiles: { id: string; name: string }[];
    portPreference?: string | null;
    baudratePreference?: number | null;
    printerProfilePreference?: string | null;
    autoconnect?: boolean;
  };
}

export interface TemperaturePreset {
  name: string;
  extruder: number;
  bed: number;
  chamber?: number;
}

export interface Relay {
  name: string;
  state?: string;
  isOn?: boolean;
  available?: boolean;
  reason?: string;
  mismatch?: boolean;
}

export interface IdleOff {
  enabled: boolean;
  pending: boolean;
  secondsLeft: number;
  warned?: boolean;
  blocked?: string;
}

export interface PowerStatus {
  relays: Relay[];
  psu?: string;
  idleOff?: IdleOff;
}

export interface AccessRequest {
  app_name: string;
  user_token: string;
  user_id?: string | null;
  remote_address?: string | null;
}

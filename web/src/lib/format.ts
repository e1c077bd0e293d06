// Small formatting helpers shared by the panels.

/** Formats seconds as "1h 02m 03s" (or "–" when unknown). */
export function duration(s: number | null | undefined): string {
  if (s == null || !isFinite(s) || s < 0) return '–';
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h ${pad(m)}m ${pad(sec)}s`;
  if (m > 0) return `${m}m ${pad(sec)}s`;
  return `${sec}s`;
}

/** Formats a byte count with binary units. */
export function bytes(n: number | null | undefined): string {
  if (n == null || !isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** Formats a Unix time (seconds) as a local date and time. */
export function datetime(t: number | null | undefined): string {
  if (!t) return '–';
  return new Date(t * 1000).toLocaleString();
}

/** Formats the clock time `secondsFromNow` in the future. */
export function finishAt(secondsFromNow: number | null | undefined, now = Date.now()): string {
  if (secondsFromNow == null || !isFinite(secondsFromNow) || secondsFromNow < 0) return '–';
  const d = new Date(now + secondsFromNow * 1000);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** Formats a temperature value. */
export function temp(v: number | null | undefined): string {
  return v == null || !isFinite(v) ? '–' : `${v.toFixed(1)}°C`;
}

/** Human name of a heater key: tool0 → "Tool 0", bed → "Bed". */
export function heaterName(key: string): string {
  if (key.startsWith('tool')) return `Tool ${key.slice(4)}`;
  return key.charAt(0).toUpperCase() + key.slice(1);
}

// Temperature history kept as column arrays, the layout uPlot draws from.

import type { HeaterReading, TempPoint } from './types';

export interface HeaterSeries {
  actual: (number | null)[];
  target: (number | null)[];
}

/** A bounded, column-oriented temperature history. */
export class TempHistory {
  time: number[] = [];
  heaters = new Map<string, HeaterSeries>();
  readonly max: number;

  constructor(max = 1800) {
    this.max = max;
  }

  /** Drops every point. */
  reset(): void {
    this.time = [];
    this.heaters = new Map();
  }

  /** Appends points (in time order), keeping at most `max`. Returns whether anything changed. */
  add(points: TempPoint[] | undefined): boolean {
    if (!points || points.length === 0) return false;
    for (const p of points) {
      if (typeof p.time !== 'number') continue;
      const last = this.time[this.time.length - 1];
      if (last !== undefined && p.time < last) continue;
      const n = this.time.length;
      this.time.push(p.time);
      for (const [key, v] of Object.entries(p)) {
        if (key === 'time' || !v || typeof v !== 'object') continue;
        let s = this.heaters.get(key);
        if (!s) {
          s = { actual: new Array(n).fill(null), target: new Array(n).fill(null) };
          this.heaters.set(key, s);
        }
        const r = v as HeaterReading;
        s.actual.push(typeof r.actual === 'number' ? r.actual : null);
        s.target.push(typeof r.target === 'number' ? r.target : null);
      }
      for (const s of this.heaters.values()) {
        while (s.actual.length < this.time.length) s.actual.push(null);
        while (s.target.length < this.time.length) s.target.push(null);
      }
    }
    const extra = this.time.length - this.max;
    if (extra > 0) {
      this.time.splice(0, extra);
      for (const s of this.heaters.values()) {
        s.actual.splice(0, extra);
        s.target.splice(0, extra);
      }
    }
    return true;
  }

  /** Heater keys in display order: tools, then bed, chamber, others. */
  keys(): string[] {
    const rank = (k: string) => (k.startsWith('tool') ? 0 : k === 'bed' ? 1 : k === 'chamber' ? 2 : 3);
    return [...this.heaters.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  }
}

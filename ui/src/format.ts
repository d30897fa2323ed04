// Formatting of durations, times and counts. Every function returns plain
// text: callers render it as a text node, never as HTML.

/** fmtDuration renders nanoseconds with three significant digits: "812 µs", "1.24 s". */
export function fmtDuration(ns: number): string {
  if (!isFinite(ns)) return '–';
  if (ns === 0) return '0';
  const neg = ns < 0;
  let v = Math.abs(ns);
  let out: string;
  if (v < 1e3) out = `${Math.round(v)} ns`;
  else if (v < 1e6) out = `${sig(v / 1e3)} µs`;
  else if (v < 1e9) out = `${sig(v / 1e6)} ms`;
  else if (v < 60e9) out = `${sig(v / 1e9)} s`;
  else if (v < 3600e9) {
    const m = Math.floor(v / 60e9);
    out = `${m}m ${Math.round((v - m * 60e9) / 1e9)}s`;
  } else {
    const h = Math.floor(v / 3600e9);
    out = `${h}h ${Math.round((v - h * 3600e9) / 60e9)}m`;
  }
  return neg ? `−${out}` : out;
}

function sig(x: number): string {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1).replace(/\.0$/, '');
  return x.toFixed(2).replace(/\.?0+$/, '');
}

/** fmtRelative says how long ago a Unix millisecond time was: "5 minutes ago". */
export function fmtRelative(ms: number, now = Date.now()): string {
  const d = Math.round((now - ms) / 1000);
  if (d < 0) return 'in the future';
  if (d < 10) return 'just now';
  if (d < 60) return `${d} seconds ago`;
  const units: [number, string][] = [[60, 'minute'], [3600, 'hour'], [86400, 'day'], [7 * 86400, 'week']];
  let chosen = units[0];
  for (const u of units) if (d >= u[0]) chosen = u;
  const n = Math.floor(d / chosen[0]);
  return `${n} ${chosen[1]}${n === 1 ? '' : 's'} ago`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** fmtTime renders a Unix millisecond time in local time: "2026-01-10 12:00:00.123". */
export function fmtTime(ms: number): string {
  const t = new Date(ms);
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${pad(t.getMilliseconds(), 3)}`;
}

/** fmtClock renders only the time of day, for axes. */
export function fmtClock(ms: number, withSeconds = true): string {
  const t = new Date(ms);
  return withSeconds ? `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}` : `${pad(t.getHours())}:${pad(t.getMinutes())}`;
}

/** fmtCount groups thousands: 20000 → "20,000". */
export function fmtCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtPercent(x: number): string {
  if (!isFinite(x)) return '–';
  const p = x * 100;
  return p === 0 ? '0%' : p < 0.1 ? '<0.1%' : p < 10 ? `${p.toFixed(1)}%` : `${Math.round(p)}%`;
}

/** parseDuration reads "250ms", "1.5s", "2m", "300us" or a bare number of milliseconds into ns; NaN if malformed. */
export function parseDuration(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h)?\s*$/.exec(s);
  if (!m) return NaN;
  const mult: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  return parseFloat(m[1]) * mult[m[2] ?? 'ms'];
}

/** goDuration renders nanoseconds as a Go duration string for the APIs ("1500000ns" is valid Go). */
export function goDuration(ns: number): string {
  if (ns % 1e6 === 0) return `${ns / 1e6}ms`;
  if (ns % 1e3 === 0) return `${ns / 1e3}us`;
  return `${Math.round(ns)}ns`;
}

/** niceTicks returns about n round tick values covering [0, max]. */
export function niceTicks(max: number, n = 6): number[] {
  if (!(max > 0)) return [0];
  const raw = max / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(v);
  return out;
}

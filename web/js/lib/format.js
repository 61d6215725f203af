// format.js: how numbers, rates, bytes, durations and times read in the UI. Pure functions
// (no DOM), unit-tested in tests/ui/unit/format.test.js. Every function accepts null or
// undefined (a value the server does not know yet) and prints "–" for it.

export const NONE = '–';

function known(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

// 1234567 → "1,234,567"; fractions are rounded to whole numbers.
export function fmtInt(v) {
  if (!known(v)) return NONE;
  const n = Math.round(v);
  const s = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? '-' + s : s;
}

// A count in short form: 950 → "950", 12345 → "12.3k", 4500000 → "4.5M", 2.1e9 → "2.1G".
export function fmtCount(v) {
  if (!known(v)) return NONE;
  const a = Math.abs(v);
  const units = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [f, u] of units) {
    if (a >= f) {
      const x = v / f;
      return (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1).replace(/\.0$/, '')) + u;
    }
  }
  return String(Math.round(v));
}

// Rows per second: 0 → "0 rows/s", 0.4 → "0.4 rows/s", 39500 → "39.5k rows/s".
export function fmtRate(v) {
  if (!known(v)) return NONE;
  if (v > 0 && v < 10) return v.toFixed(1).replace(/\.0$/, '') + ' rows/s';
  return fmtCount(v) + ' rows/s';
}

// Bytes in binary units: 1023 → "1023 B", 1536 → "1.5 KiB", 9000000 → "8.6 MiB".
export function fmtBytes(v) {
  if (!known(v)) return NONE;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = Math.abs(v);
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  const sign = v < 0 ? '-' : '';
  if (i === 0) return `${sign}${Math.round(x)} B`;
  return `${sign}${x >= 100 ? x.toFixed(0) : x.toFixed(1)} ${units[i]}`;
}

// A duration in seconds: 0.08 → "80 ms", 3.1 → "3.1 s", 75 → "1 min 15 s",
// 3725 → "1 h 2 min", 90000 → "1 d 1 h".
export function fmtDuration(sec) {
  if (!known(sec)) return NONE;
  if (sec < 0) sec = 0;
  if (sec < 1) return `${Math.round(sec * 1000)} ms`;
  if (sec < 60) return `${sec < 10 ? sec.toFixed(1).replace(/\.0$/, '') : Math.round(sec)} s`;
  const s = Math.round(sec);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (d > 0) return h ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m ? `${h} h ${m} min` : `${h} h`;
  return r ? `${m} min ${r} s` : `${m} min`;
}

// A fraction 0..1 as a percentage: 0.594 → "59%", 0.999 → "99%" (100% only when done).
export function fmtPercent(f) {
  if (!known(f)) return NONE;
  const p = Math.max(0, Math.min(1, f)) * 100;
  if (p >= 100) return '100%';
  return `${Math.min(99, Math.floor(p))}%`;
}

// An RFC 3339 time as local "HH:MM:SS" (today) or "YYYY-MM-DD HH:MM" (another day).
// now is injectable for tests.
export function fmtTime(iso, now = new Date()) {
  if (!iso) return NONE;
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, '0');
  const sameDay =
    t.getFullYear() === now.getFullYear() &&
    t.getMonth() === now.getMonth() &&
    t.getDate() === now.getDate();
  if (sameDay) return `${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())}`;
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())} ${p(t.getHours())}:${p(
    t.getMinutes()
  )}`;
}

// Lag as the UI shows it: seconds, plus the PostgreSQL slot's bytes when known.
// null lag (a load) → "–".
export function fmtLag(lag) {
  if (!lag || !known(lag.seconds)) return NONE;
  const s = fmtDuration(lag.seconds);
  return known(lag.slot_bytes) ? `${s} (${fmtBytes(lag.slot_bytes)} slot)` : s;
}

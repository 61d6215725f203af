// chart.js: the geometry of the stream page's line charts, kept apart from the DOM so it
// can be tested (tests/ui/unit/chart.test.js). A Series is a bounded ring of {t, v} points
// (t in ms); linePath turns points into an SVG path in a w × h box; niceMax picks the top
// of the y axis (1, 2 or 5 × 10^k); yTicks and xTicks place the axes' values.

export class Series {
  constructor(limit = 120) {
    this.limit = limit;
    this.points = [];
  }

  // Adds a point; a null/undefined/NaN value is skipped (unknown is not zero). Keeps the
  // last limit points.
  push(t, v) {
    if (typeof v !== 'number' || !Number.isFinite(v)) return;
    this.points.push({ t, v });
    if (this.points.length > this.limit) this.points.splice(0, this.points.length - this.limit);
  }

  last() {
    return this.points.length ? this.points[this.points.length - 1].v : null;
  }

  max() {
    let m = 0;
    for (const p of this.points) if (p.v > m) m = p.v;
    return m;
  }
}

// The smallest 1, 2 or 5 × 10^k at or above v (1 for v ≤ 0).
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const e = Math.pow(10, Math.floor(Math.log10(v)));
  for (const f of [1, 2, 5, 10]) if (f * e >= v) return f * e;
  return 10 * e;
}

// The SVG path of points over the time window [t1 - spanMs, t1], y from 0 to ymax, in a
// box w × h (y grows downwards). Points before the window are dropped. "" when empty.
export function linePath(points, { t1, spanMs, ymax, w, h }) {
  const t0 = t1 - spanMs;
  const parts = [];
  for (const p of points) {
    if (p.t < t0) continue;
    const x = ((p.t - t0) / spanMs) * w;
    const y = h - (Math.min(p.v, ymax) / ymax) * h;
    parts.push(`${parts.length ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`);
  }
  return parts.join(' ');
}

// The values of the y axis from 0 to ymax (a niceMax): four steps for 1 and 2 × 10^k
// (0, 0.25, 0.5, …; 0, 0.5, 1, …), five for 5 × 10^k (0, 1, 2, …), so labels stay round.
export function yTicks(ymax) {
  if (!(ymax > 0)) return [0];
  const e = Math.pow(10, Math.floor(Math.log10(ymax) + 1e-9));
  const m = Math.round(ymax / e);
  const n = m === 5 ? 5 : 4;
  const out = [];
  for (let i = 0; i <= n; i++) out.push(Number(((ymax * i) / n).toPrecision(12)));
  return out;
}

// The time axis of a window of spanMs ending now: a tick every stepMs from the left edge,
// [{at: 0..1 from the left, label}], the last one "now", the others "−2 min", "−90 s", ….
export function xTicks(spanMs, stepMs = 30000) {
  const out = [];
  for (let back = spanMs; back >= 0; back -= stepMs) {
    const s = Math.round(back / 1000);
    const label = s === 0 ? 'now' : s % 60 === 0 ? `−${s / 60} min` : `−${s} s`;
    out.push({ at: (spanMs - back) / spanMs, label });
  }
  return out;
}

// Unit tests of web/js/lib/chart.js: the bounded series and the SVG path geometry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Series, niceMax, linePath, yTicks, xTicks } from '../../../web/js/lib/chart.js';

test('series keeps the last points and skips unknown values', () => {
  const s = new Series(3);
  s.push(1, 10);
  s.push(2, null);
  s.push(3, NaN);
  s.push(4, 20);
  s.push(5, 5);
  s.push(6, 7);
  assert.deepEqual(s.points.map((p) => p.t), [4, 5, 6]);
  assert.equal(s.last(), 7);
  assert.equal(s.max(), 20);
  assert.equal(new Series().last(), null);
  assert.equal(new Series().max(), 0);
});

test('niceMax picks 1, 2 or 5 × 10^k', () => {
  assert.equal(niceMax(0), 1);
  assert.equal(niceMax(-4), 1);
  assert.equal(niceMax(0.3), 0.5);
  assert.equal(niceMax(1), 1);
  assert.equal(niceMax(1.1), 2);
  assert.equal(niceMax(3), 5);
  assert.equal(niceMax(7), 10);
  assert.equal(niceMax(39500), 50000);
  assert.equal(niceMax(100000), 100000);
});

test('linePath maps time and value into the box', () => {
  const pts = [
    { t: 0, v: 0 }, // before the window: dropped
    { t: 1000, v: 0 },
    { t: 2000, v: 50 },
    { t: 3000, v: 200 }, // above ymax: clamped to the top
  ];
  const d = linePath(pts, { t1: 3000, spanMs: 2000, ymax: 100, w: 200, h: 100 });
  assert.equal(d, 'M0.0,100.0 L100.0,50.0 L200.0,0.0');
  assert.equal(linePath([], { t1: 1, spanMs: 1, ymax: 1, w: 1, h: 1 }), '');
});

test('yTicks: round values at the grid lines', () => {
  assert.deepEqual(yTicks(1), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(yTicks(2000), [0, 500, 1000, 1500, 2000]);
  assert.deepEqual(yTicks(50000), [0, 10000, 20000, 30000, 40000, 50000]);
  assert.deepEqual(yTicks(0.5), [0, 0.1, 0.2, 0.3, 0.4, 0.5]);
  assert.deepEqual(yTicks(0), [0]);
  for (const v of [0.3, 7, 39500, 123456]) {
    const t = yTicks(niceMax(v));
    assert.equal(t[0], 0);
    assert.equal(t.at(-1), niceMax(v), `the top tick of ${v} is the axis's top`);
  }
});

test('xTicks: the time axis of the last two minutes', () => {
  const t = xTicks(120000);
  assert.deepEqual(t.map((x) => x.label), ['−2 min', '−90 s', '−1 min', '−30 s', 'now']);
  assert.deepEqual(t.map((x) => x.at), [0, 0.25, 0.5, 0.75, 1]);
});

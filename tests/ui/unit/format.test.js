// Unit tests of web/js/lib/format.js (node --test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmtInt, fmtCount, fmtRate, fmtBytes, fmtDuration, fmtPercent, fmtTime, fmtLag, NONE } from '../../../web/js/lib/format.js';

test('unknown values print a dash', () => {
  for (const f of [fmtInt, fmtCount, fmtRate, fmtBytes, fmtDuration, fmtPercent]) {
    assert.equal(f(null), NONE);
    assert.equal(f(undefined), NONE);
    assert.equal(f(NaN), NONE);
    assert.equal(f(Infinity), NONE);
  }
  assert.equal(fmtTime(null), NONE);
  assert.equal(fmtLag(null), NONE);
  assert.equal(fmtLag({ seconds: null, slot_bytes: 10 }), NONE);
});

test('integers get thousands separators', () => {
  assert.equal(fmtInt(0), '0');
  assert.equal(fmtInt(999), '999');
  assert.equal(fmtInt(1000), '1,000');
  assert.equal(fmtInt(1234567), '1,234,567');
  assert.equal(fmtInt(-1234.6), '-1,235');
});

test('counts are short', () => {
  assert.equal(fmtCount(950), '950');
  assert.equal(fmtCount(1000), '1k');
  assert.equal(fmtCount(12345), '12.3k');
  assert.equal(fmtCount(123456), '123k');
  assert.equal(fmtCount(4500000), '4.5M');
  assert.equal(fmtCount(2.1e9), '2.1G');
});

test('rates', () => {
  assert.equal(fmtRate(0), '0 rows/s');
  assert.equal(fmtRate(0.44), '0.4 rows/s');
  assert.equal(fmtRate(3), '3 rows/s');
  assert.equal(fmtRate(39500), '39.5k rows/s');
});

test('bytes in binary units', () => {
  assert.equal(fmtBytes(0), '0 B');
  assert.equal(fmtBytes(1023), '1023 B');
  assert.equal(fmtBytes(1024), '1.0 KiB');
  assert.equal(fmtBytes(1536), '1.5 KiB');
  assert.equal(fmtBytes(9000000), '8.6 MiB');
  assert.equal(fmtBytes(200 * 1024 * 1024), '200 MiB');
  assert.equal(fmtBytes(5 * 1024 ** 5), '5120 TiB');
});

test('durations', () => {
  assert.equal(fmtDuration(0), '0 ms');
  assert.equal(fmtDuration(-3), '0 ms');
  assert.equal(fmtDuration(0.08), '80 ms');
  assert.equal(fmtDuration(1), '1 s');
  assert.equal(fmtDuration(3.14), '3.1 s');
  assert.equal(fmtDuration(42.4), '42 s');
  assert.equal(fmtDuration(60), '1 min');
  assert.equal(fmtDuration(75), '1 min 15 s');
  assert.equal(fmtDuration(3600), '1 h');
  assert.equal(fmtDuration(3725), '1 h 2 min');
  assert.equal(fmtDuration(86400), '1 d');
  assert.equal(fmtDuration(90000), '1 d 1 h');
});

test('percentages reach 100% only when done', () => {
  assert.equal(fmtPercent(0), '0%');
  assert.equal(fmtPercent(0.594), '59%');
  assert.equal(fmtPercent(0.9999), '99%');
  assert.equal(fmtPercent(1), '100%');
  assert.equal(fmtPercent(1.7), '100%');
  assert.equal(fmtPercent(-0.2), '0%');
});

test('times: clock today, date otherwise', () => {
  const now = new Date(2026, 10, 27, 12, 0, 0);
  const today = new Date(2026, 10, 27, 5, 4, 3).toISOString();
  const before = new Date(2026, 10, 20, 9, 8, 0).toISOString();
  assert.equal(fmtTime(today, now), '05:04:03');
  assert.equal(fmtTime(before, now), '2026-11-20 09:08');
  assert.equal(fmtTime('not a time', now), 'not a time');
});

test('lag shows slot bytes when known', () => {
  assert.equal(fmtLag({ seconds: 0.08, slot_bytes: 2048 }), '80 ms (2.0 KiB slot)');
  assert.equal(fmtLag({ seconds: 2, slot_bytes: null }), '2 s');
});

// Unit tests of web/js/lib/verify.js: a verify job as the stream page shows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyView, shortSum } from '../../../web/js/lib/verify.js';

const table = (name, equal, extra = {}) => ({
  table: name, source_rows: 10, target_rows: equal ? 10 : 9, source_checksum: 'a'.repeat(32),
  target_checksum: equal ? 'a'.repeat(32) : 'b'.repeat(32), equal, problem: null, samples: equal ? [] : ['missing on target: id=4'], ...extra,
});

test('a running job shows its progress from the log', () => {
  const v = verifyView({ state: 'running', report: null, log: ['verify: table a (1 of 3): equal', 'verify: table b (2 of 3): DIFFERENT'] });
  assert.equal(v.tone, 'busy');
  assert.equal(v.progress, '2 of 3 tables');
  assert.deepEqual(v.rows, []);
});

test('equal and different reports', () => {
  let v = verifyView({ state: 'done', result: 'equal', report: { equal: true, tables: [table('a', true), table('b', true)] } });
  assert.equal(v.headline, 'All 2 tables equal');
  assert.equal(v.tone, 'ok');
  v = verifyView({ state: 'done', result: 'different',
    report: { equal: false, tables: [table('a', true), table('b', false), table('c', false, { problem: 'table "c" is missing on the target', source_rows: null })] } });
  assert.equal(v.headline, '2 of 3 tables differ');
  assert.equal(v.tone, 'bad');
  assert.deepEqual(v.rows.map((r) => r.result), ['equal', 'DIFFERENT', 'table "c" is missing on the target']);
  assert.deepEqual(v.rows[1].samples, ['missing on target: id=4']);
  assert.equal(v.rows[0].source_sum, 'aaaaaaaaaaaa');
});

test('a failed job shows its error', () => {
  const v = verifyView({ state: 'failed', result: 'error', report: { tables: [], error: { message: 'target: verify does not read file targets yet (file://)' } }, error: null });
  assert.equal(v.tone, 'warn');
  assert.match(v.error.message, /file targets/);
  assert.equal(verifyView(null), null);
  assert.equal(shortSum(null), '–');
});

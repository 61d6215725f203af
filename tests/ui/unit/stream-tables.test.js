// Unit tests of web/js/lib/stream-tables.js: the table controls of a cdc stream's page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tablesEditable, parseTableNames, stateNote, stateTone } from '../../../web/js/lib/stream-tables.js';

test('only a cdc stream with a list of tables has table controls', () => {
  assert.equal(tablesEditable({ spec: { mode: 'cdc', source: { tables: ['a', 'b'] } } }), true);
  assert.equal(tablesEditable({ spec: { mode: 'cdc', source: { tables: [{ name: 'a', target: 'x' }] } } }), true);
  assert.equal(tablesEditable({ spec: { mode: 'cdc', source: { tables: ['*'] } } }), false);
  assert.equal(tablesEditable({ spec: { mode: 'cdc', source: {} } }), false);
  assert.equal(tablesEditable({ spec: { mode: 'cdc', source: { tables: [] } } }), false);
  assert.equal(tablesEditable({ spec: { mode: 'load', source: { tables: ['a'] } } }), false);
  assert.equal(tablesEditable({ spec: { source: { tables: ['a'] } } }), false);
  assert.equal(tablesEditable(null), false);
});

test('the add field: names by commas or spaces, each once', () => {
  assert.deepEqual(parseTableNames('orders, public.customers'), ['orders', 'public.customers']);
  assert.deepEqual(parseTableNames('  a\tb\n,c,, a '), ['a', 'b', 'c']);
  assert.deepEqual(parseTableNames(''), []);
  assert.deepEqual(parseTableNames(undefined), []);
});

test('the note under a state: rows copied, or the error', () => {
  assert.equal(stateNote({ state: 'copying', copied_rows: 1200, est_rows: 5000 }), '1200 of ~5000 rows copied');
  assert.equal(stateNote({ state: 'copying', copied_rows: 7, est_rows: null }), '7 rows copied');
  assert.equal(stateNote({ state: 'copying', copied_rows: 1200 }, (n) => `#${n}`), '#1200 rows copied');
  assert.equal(stateNote({ state: 'copying', copied_rows: null }), null);
  assert.equal(stateNote({ state: 'failed', error: 'value too long for type character varying(4)' }),
    'value too long for type character varying(4)');
  assert.equal(stateNote({ state: 'streaming' }), null);
  assert.equal(stateNote({ state: 'removed', error: null }), null);
});

test('state tones', () => {
  assert.equal(stateTone('copying'), 'busy');
  assert.equal(stateTone('streaming'), 'ok');
  assert.equal(stateTone('failed'), 'bad');
  assert.equal(stateTone('removed'), 'idle');
  assert.equal(stateTone('anything'), 'idle');
});

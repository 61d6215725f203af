// Unit tests of web/js/lib/stream-info.js: what the stream page says a stream copies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointText, tableEntries, modeText, specText } from '../../../web/js/lib/stream-info.js';

test('an endpoint is a connection name or the masked URL the server gave', () => {
  assert.deepEqual(endpointText({ connection: 'shop-pg', tables: ['a'] }), { text: 'shop-pg', kind: 'connection' });
  assert.deepEqual(endpointText({ url: 'mysql://repl:****@h:3306/shop' }), { text: 'mysql://repl:****@h:3306/shop', kind: 'url' });
  assert.deepEqual(endpointText(undefined), { text: '–', kind: 'none' });
});

test('tables: every table, names, or entries with a mapping', () => {
  assert.equal(tableEntries({ source: {} }), null);
  assert.equal(tableEntries({ source: { tables: ['*'] } }), null);
  assert.equal(tableEntries({ source: { tables: [] } }), null);
  assert.deepEqual(tableEntries({ source: { tables: ['orders', 'public.items'] } }), [
    { name: 'orders', mapping: null },
    { name: 'public.items', mapping: null },
  ]);
  const [e] = tableEntries({ source: { tables: [{ name: 'orders', target: 'orders_copy', where: 'id > 10' }] } });
  assert.equal(e.name, 'orders');
  assert.deepEqual(JSON.parse(e.mapping), { target: 'orders_copy', where: 'id > 10' });
  assert.deepEqual(tableEntries({ source: { tables: [{ name: 'plain' }] } }), [{ name: 'plain', mapping: null }]);
});

test('mode in words, spec as indented JSON', () => {
  assert.match(modeText({ mode: 'load' }), /^Load/);
  assert.match(modeText({ mode: 'cdc' }), /copies the tables, then streams/);
  assert.match(modeText({ mode: 'cdc', options: { initial_load: false } }), /no initial copy/);
  assert.equal(specText({ a: 1 }), '{\n  "a": 1\n}');
});

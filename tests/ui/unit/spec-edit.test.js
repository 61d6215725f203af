// Unit tests of web/js/lib/spec-edit.js: the spec editor's checks, against the option
// table of the sluice binary (`sluice options --json`, as the server serves it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSpecText, editNotes, jsonErrorAt } from '../../../web/js/lib/spec-edit.js';
import { specOptions } from './options-table.js';

const table = specOptions();
const good = {
  name: 'shop', mode: 'cdc',
  source: { connection: 'pg', tables: ['orders'] },
  target: { url: 'mysql://u:****@h:3306/shop' },
  options: { batch_rows: 500, ordering: 'key', initial_load: true },
};
const check = (o) => checkSpecText(typeof o === 'string' ? o : JSON.stringify(o, null, 2), table);
const paths = (o) => check(o).errors.map((e) => e.path);

test('a good spec passes, masked secrets included', () => {
  const r = check(good);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.spec, good);
});

test('bad JSON says where', () => {
  const r = check('{\n  "name": "shop",\n  "mode": cdc\n}');
  assert.equal(r.spec, null);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0].message, /not valid JSON at line 3, column \d+/);
});

test('the shape: fields, name, mode, endpoints', () => {
  assert.deepEqual(paths({ ...good, sauce: 1 }), ['sauce']);
  assert.deepEqual(paths({ ...good, name: 'bad name' }), ['name']);
  assert.deepEqual(paths({ ...good, mode: 'stream' }), ['mode']);
  assert.deepEqual(paths({ ...good, source: { tables: ['a'] } }), ['source']);
  assert.deepEqual(paths({ ...good, source: { connection: 'pg', url: 'postgres://h/d' } }), ['source']);
  assert.deepEqual(paths({ ...good, target: { connection: 'x', tables: [] } }), ['target.tables']);
  assert.deepEqual(paths({ ...good, source: { connection: 'pg', tables: 'orders' } }), ['source.tables']);
  assert.deepEqual(paths({ ...good, source: { connection: 'pg', tables: ['', 3] } }), ['source.tables[0]', 'source.tables[1]']);
  assert.deepEqual(paths([1]), ['']);
});

test('options against the server\'s table: names, types, bounds, choices by mode', () => {
  assert.deepEqual(paths({ ...good, options: { batch_row: 5 } }), ['options.batch_row']);
  assert.match(check({ ...good, options: { batch_row: 5 } }).errors[0].message, /batch_rows/);
  assert.deepEqual(paths({ ...good, options: { batch_rows: '500' } }), ['options.batch_rows']);
  const max = table.find((o) => o.name === 'batch_rows').max;
  assert.deepEqual(paths({ ...good, options: { batch_rows: max + 1 } }), ['options.batch_rows']);
  assert.deepEqual(paths({ ...good, options: { batch_rows: max } }), []);
  assert.deepEqual(paths({ ...good, options: { write_mode: 'upsert' } }), ['options.write_mode']);
  assert.deepEqual(paths({ ...good, options: { initial_load: 'yes' } }), ['options.initial_load']);
  assert.deepEqual(paths({ ...good, options: [] }), ['options']);
});

test('notes on what an edit means', () => {
  assert.deepEqual(editNotes(good, good), []);
  assert.match(editNotes(good, { ...good, mode: 'load' })[0], /mode changes/);
  assert.match(editNotes(good, { ...good, source: { connection: 'pg', tables: ['orders', 'items'] } })[0], /change stream/);
  assert.match(editNotes({ ...good, mode: 'load' }, { ...good, mode: 'load', source: { connection: 'pg', tables: ['x'] } })[0],
    /a load loads the tables added/);
});

test('jsonErrorAt finds the first error where JSON.parse fails', () => {
  assert.equal(jsonErrorAt('{"a": [1, 2, {"b": "c\\n"}], "d": null}'), -1);
  assert.equal(jsonErrorAt('{"a": 1,}'), 8);
  assert.equal(jsonErrorAt('{"a" 1}'), 5);
  assert.equal(jsonErrorAt('{"a": tru}'), 6);
  assert.equal(jsonErrorAt('{"a": [1, 2'), 11); // the end
  assert.equal(jsonErrorAt('{} x'), 3);
  assert.equal(jsonErrorAt('{"a": "\x01"}'), 7);
  assert.equal(jsonErrorAt('{"a": 01}'), 7);
  for (const t of ['', '{', '[1,]', '{"a":}', '"\\q"', '-', '1.', 'nul']) {
    assert.throws(() => JSON.parse(t));
    assert.notEqual(jsonErrorAt(t), -1, t);
  }
});

// Unit tests of web/js/lib/spec.js: the stream spec the wizard sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec, tableRef, estimatedRows } from '../../../web/js/lib/spec.js';
import { specOptions } from './options-table.js';

const table = specOptions();

const base = {
  name: ' shop-to-my ',
  mode: 'cdc',
  initial_load: true,
  source: { connection: 'pg', kind: 'postgres' },
  target: { connection: 'maria' },
  tables: [
    { schema: 'public', name: 'orders', est_rows: 10 },
    { schema: 'sales', name: 'Items', est_rows: 5 },
  ],
  options: {},
};

test('table references: schema only outside public, and only for PostgreSQL', () => {
  assert.equal(tableRef('postgres', { schema: 'public', name: 'a' }), 'a');
  assert.equal(tableRef('postgres', { schema: 'sales', name: 'Items' }), 'sales.Items');
  assert.equal(tableRef('mysql', { schema: 'shop', name: 'a' }), 'a');
});

test('a CDC spec with defaults', () => {
  assert.deepEqual(buildSpec(base, table), {
    name: 'shop-to-my',
    mode: 'cdc',
    source: { connection: 'pg', tables: ['orders', 'sales.Items'] },
    target: { connection: 'maria' },
    options: { initial_load: true },
  });
});

test('options: numbers parsed, empty left out, cdc-only options dropped from a load', () => {
  const spec = buildSpec({
    ...base,
    mode: 'load',
    options: { writers: ' 2 ', batch_rows: '', schema: 'recreate', write_mode: '', ordering: 'key' },
  }, table);
  assert.deepEqual(spec.options, { writers: 2, schema: 'recreate' });
  assert.equal(spec.mode, 'load');
  const cdc = buildSpec({ ...base, initial_load: false, options: { ordering: 'key', batch_rows: '5000' } }, table);
  assert.deepEqual(cdc.options, { initial_load: false, batch_rows: 5000, ordering: 'key' });
  // an option the table does not know is never sent
  assert.deepEqual(buildSpec({ ...base, options: { batchrows: '5' } }, table).options, { initial_load: true });
});

test('a load without options has no options object; no tables means every table', () => {
  const spec = buildSpec({ ...base, mode: 'load', tables: [] }, table);
  assert.equal('options' in spec, false);
  assert.equal('tables' in spec.source, false);
});

test('row estimate of the picked tables', () => {
  assert.equal(estimatedRows(base.tables), 15);
  assert.equal(estimatedRows([{ est_rows: null }]), null);
  assert.equal(estimatedRows([]), null);
});

// Unit tests of web/js/lib/validate.js: form checks and API error → field mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kindOfUrl, validateConnection, validateStreamName, validateOptions, formOptions, errorField, isDatabase } from '../../../web/js/lib/validate.js';
import { specOptions } from './options-table.js';

const table = specOptions();

test('kind from the URL scheme', () => {
  assert.equal(kindOfUrl('postgres://u@h/db'), 'postgres');
  assert.equal(kindOfUrl('PostgreSQL://u@h/db'), 'postgres');
  assert.equal(kindOfUrl('mariadb://u@h:3306/db'), 'mysql');
  assert.equal(kindOfUrl('mysql://u@h/db'), 'mysql');
  assert.equal(kindOfUrl('file:///tmp/x'), 'file');
  assert.equal(kindOfUrl('s3://bucket/p'), 's3');
  assert.equal(kindOfUrl('http://x'), null);
  assert.equal(kindOfUrl('localhost:5432'), null);
  assert.equal(kindOfUrl(''), null);
  assert.equal(isDatabase('postgres'), true);
  assert.equal(isDatabase('s3'), false);
});

test('a good connection passes', () => {
  assert.deepEqual(validateConnection({ kind: 'postgres', name: 'shop-pg', url: 'postgres://u@127.0.0.1:5432/shop' }), {});
  assert.deepEqual(validateConnection({ kind: 'mysql', name: 'a.b_c-1', url: 'mysql://u@h/db', password: 'x' }), {});
});

test('connection names: 1–63 of [A-Za-z0-9_.-], starting with a letter or digit', () => {
  const v = (name) => validateConnection({ kind: 'postgres', name, url: 'postgres://h/db' }).name;
  assert.match(v(''), /name/);
  assert.match(v('bad name!'), /letters/);
  assert.match(v('-dash'), /starting/);
  assert.match(v('x'.repeat(64)), /1–63/);
  assert.equal(v('x'.repeat(63)), undefined);
  assert.equal(v('9lives'), undefined);
});

test('URLs must match the kind', () => {
  const v = (kind, url) => validateConnection({ kind, name: 'n', url }).url;
  assert.match(v('postgres', ''), /e\.g\. postgres:\/\//);
  assert.match(v('postgres', 'localhost:5432/db'), /must start with/);
  assert.match(v('postgres', 'mysql://h/db'), /PostgreSQL URL starts with postgres:\/\/ or postgresql:\/\//);
  assert.match(v('mysql', 'mysql://h/d b'), /spaces/);
  assert.equal(v('s3', 's3://bucket'), undefined);
});

test('S3 keys come in pairs; a kept secret counts', () => {
  const base = { kind: 's3', name: 'n', url: 's3://b' };
  assert.match(validateConnection({ ...base, access_key_id: 'AK' }).secret_access_key, /both/);
  assert.match(validateConnection({ ...base, secret_access_key: 'S' }).secret_access_key, /both/);
  assert.deepEqual(validateConnection({ ...base, access_key_id: 'AK', secret_access_key: 'S' }), {});
  assert.deepEqual(validateConnection({ ...base, access_key_id: 'AK', secret_access_key: '****' }), {});
});

test('stream names', () => {
  assert.equal(validateStreamName('shop-to-pg_1'), null);
  assert.match(validateStreamName(''), /name/);
  assert.match(validateStreamName('a.b'), /letters/);
  assert.match(validateStreamName('x'.repeat(101)), /100/);
});

test('options: empty is the default, numbers in range, enums known', () => {
  for (const mode of ['load', 'cdc']) {
    assert.deepEqual(validateOptions({ writers: '', batch_rows: ' ', schema: '' }, table, mode), {});
    assert.deepEqual(validateOptions({ writers: '2', batch_rows: '10000', schema: 'recreate' }, table, mode), {});
    const e = validateOptions({ writers: 'two', batch_rows: '0', readers: '-1', schema: 'maybe', batch_bytes: '1.5' }, table, mode);
    assert.match(e.writers, /whole number/);
    assert.match(e.batch_rows, /from 1/);
    assert.match(e.readers, /whole number/);
    assert.match(e.batch_bytes, /whole number/);
    assert.match(e.schema, /create_missing/);
    assert.match(validateOptions({ writers: '65' }, table, mode).writers, /0 to 64/);
  }
  assert.deepEqual(validateOptions({ ordering: 'key' }, table, 'cdc'), {});
  assert.match(validateOptions({ ordering: 'sideways' }, table, 'cdc').ordering, /transaction, key/);
});

test("options: the limits and choices are the server's table", () => {
  // the values web/js had drifted to are refused; the server's own bounds pass
  const v = (k, x, mode = 'load') => validateOptions({ [k]: x }, table, mode)[k];
  assert.match(v('batch_rows', '1000001'), /from 1 to 1000000/);
  assert.equal(v('batch_rows', '1000000'), undefined);
  assert.match(v('batch_bytes', '1024'), /from 65536 to 67108864/);
  assert.equal(v('batch_bytes', '65536'), undefined);
  assert.equal(v('batch_bytes', '67108864'), undefined);
  assert.match(v('batch_bytes', '1073741824'), /to 67108864/);
  assert.match(v('chunk_rows', '1'), /from 1000/);
  assert.equal(v('chunk_rows', '1000'), undefined);
  // upsert is refused by the server in both modes: never offered, refused if typed
  for (const mode of ['load', 'cdc']) {
    const wm = formOptions(table, mode).find((o) => o.name === 'write_mode');
    assert.deepEqual(wm.choices.map((c) => c.value), ['insert', 'truncate_insert']);
    assert.match(v('write_mode', 'upsert', mode), /Choose one of insert, truncate_insert/);
  }
  // cdc-only options are offered in cdc only; booleans are not form fields of this step
  assert.ok(formOptions(table, 'cdc').some((o) => o.name === 'ordering'));
  assert.ok(!formOptions(table, 'load').some((o) => o.name === 'ordering'));
  assert.ok(!formOptions(table, 'cdc').some((o) => o.name === 'initial_load'));
  // every integer and enum option of the table is offered in some mode
  const offered = new Set([...formOptions(table, 'load'), ...formOptions(table, 'cdc')].map((o) => o.name));
  for (const o of table) if (o.type === 'int' || o.type === 'enum') assert.ok(offered.has(o.name), o.name);
});

test('API errors map to the field they name', () => {
  const fields = ['name', 'url', 'password', 'batch_rows', 'writers'];
  assert.equal(errorField({ code: 'name_taken', message: 'a connection named "x" exists' }, fields), 'name');
  assert.equal(errorField({ code: 'invalid_field', message: 'invalid field "url": no host' }, fields), 'url');
  assert.equal(errorField({ code: 'unknown_field', message: 'unknown field "pasword"' }, fields), null);
  assert.equal(errorField({ code: 'invalid_field', message: 'option batch_rows must be positive' }, fields), 'batch_rows');
  // a field name inside a longer word is not a match
  assert.equal(errorField({ code: 'invalid_field', message: 'bad urlish thing', detail: 'overwriters' }, fields), null);
  // the earliest mention wins
  assert.equal(errorField({ code: 'invalid_field', message: 'writers: too many for batch_rows' }, fields), 'writers');
  assert.equal(errorField(null, fields), null);
});

// spec.js: the stream spec (docs/spec.md) the new-stream wizard builds from its answers.
// Pure; tests in tests/ui/unit/spec.test.js. Options left empty are left out so that the
// server's defaults apply; options that do not matter in the mode are left out (the option
// table of GET /api/v1/options says which).

import { formOptions } from './validate.js';

// The spec's name of a table picked from GET /connections/{id}/tables: PostgreSQL tables
// outside "public" are "schema.name"; others are their name.
export function tableRef(kind, t) {
  if (kind === 'postgres' && t.schema && t.schema !== 'public') return `${t.schema}.${t.name}`;
  return t.name;
}

// answers: {name, mode: "load"|"cdc", initial_load: bool, source: {connection, kind},
// tables: [{schema, name}], target: {connection}, options: {writers: "2", schema: "…", …}};
// table: the `options` of GET /api/v1/options. Returns the spec for POST /api/v1/streams.
export function buildSpec(a, table) {
  const mode = a.mode === 'cdc' ? 'cdc' : 'load';
  const spec = {
    name: (a.name || '').trim(),
    mode,
    source: { connection: a.source.connection },
    target: { connection: a.target.connection },
  };
  const tables = (a.tables || []).map((t) => tableRef(a.source.kind, t));
  if (tables.length) spec.source.tables = tables;
  const options = {};
  if (mode === 'cdc') options.initial_load = a.initial_load !== false;
  const o = a.options || {};
  for (const p of formOptions(table, mode)) {
    const v = o[p.name];
    if (v === undefined || v === null || String(v).trim() === '') continue;
    options[p.name] = p.type === 'int' ? Number(String(v).trim()) : String(v).trim();
  }
  if (Object.keys(options).length) spec.options = options;
  return spec;
}

// Sum of the picked tables' row estimates (null when none is known).
export function estimatedRows(tables) {
  let n = null;
  for (const t of tables || []) if (typeof t.est_rows === 'number' && t.est_rows >= 0) n = (n || 0) + t.est_rows;
  return n;
}

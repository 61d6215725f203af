// stream-info.js: what a stream copies, from where, to where, as the stream page shows it,
// read from the spec that GET /api/v1/streams/{id} returns (secrets already masked by the
// server). Pure; tests in tests/ui/unit/stream-info.test.js.

// One side of a spec ({connection} or {url}) for the page: {text, kind: "connection" |
// "url" | "none"}. A URL is shown as the server gave it (its password is "****").
export function endpointText(ep) {
  if (ep && typeof ep.connection === 'string') return { text: ep.connection, kind: 'connection' };
  if (ep && typeof ep.url === 'string') return { text: ep.url, kind: 'url' };
  return { text: '–', kind: 'none' };
}

// The source's tables: null when the spec copies every table ("*" or none listed), else
// [{name, mapping}] in the spec's order; mapping is null for a plain name, or the JSON of
// an entry given as an object (its options besides the name: a target name, columns, a
// filter…), pretty-printed.
export function tableEntries(spec) {
  const t = spec && spec.source && spec.source.tables;
  if (!Array.isArray(t) || t.length === 0 || (t.length === 1 && t[0] === '*')) return null;
  return t.map((e) => {
    if (typeof e === 'string') return { name: e, mapping: null };
    if (e && typeof e === 'object') {
      const { name, table, ...rest } = e;
      const n = typeof name === 'string' ? name : typeof table === 'string' ? table : '?';
      return { name: n, mapping: Object.keys(rest).length ? JSON.stringify(rest, null, 2) : null };
    }
    return { name: String(e), mapping: null };
  });
}

// "load" → "Load (copies the tables once)"; "cdc" → change data capture, with or without
// its initial copy.
export function modeText(spec) {
  if (!spec || spec.mode !== 'cdc') return 'Load: copies the tables once';
  const initial = !(spec.options && spec.options.initial_load === false);
  return initial ? 'Change data capture: copies the tables, then streams every change'
                 : 'Change data capture: streams every change (no initial copy)';
}

// The spec as the page shows it: the JSON, two-space indented.
export function specText(spec) {
  return JSON.stringify(spec ?? null, null, 2);
}

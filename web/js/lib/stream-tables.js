// stream-tables.js: the rules behind the table controls of a cdc stream's page
// (views/stream_tables.js): which streams have them, how the "add tables" field is read,
// and what a table's state cell says. Pure; tests in tests/ui/unit/stream-tables.test.js.

// Whether stream s has tables to change one by one: a cdc stream with a list of tables
// (not "*", every table of its source).
export function tablesEditable(s) {
  const t = s?.spec?.source?.tables;
  return s?.spec?.mode === 'cdc' && Array.isArray(t) && t.length > 0 && !t.includes('*');
}

// The table names typed in the "add tables" field: separated by commas or white space,
// each once, in the order typed.
export function parseTableNames(text) {
  return [...new Set(String(text ?? '').split(/[\s,]+/).filter(Boolean))];
}

// The words under a table's state: rows copied (of the estimate) while copying, the error
// of a failed table, else null. tb is an entry of the stats' "tables".
export function stateNote(tb, fmt = String) {
  if (tb?.state === 'copying' && typeof tb.copied_rows === 'number')
    return `${fmt(tb.copied_rows)}${typeof tb.est_rows === 'number' ? ` of ~${fmt(tb.est_rows)}` : ''} rows copied`;
  if (tb?.state === 'failed' && tb.error) return tb.error;
  return null;
}

// The badge tone of a table state.
export function stateTone(state) {
  return { copying: 'busy', streaming: 'ok', failed: 'bad', removed: 'idle' }[state] || 'idle';
}

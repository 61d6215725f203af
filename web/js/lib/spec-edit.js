// spec-edit.js: the checks of the stream page's spec editor before it sends PUT
// /api/v1/streams/{id}: the JSON, the spec's shape (docs/spec.md), and its options against
// the table the server parses with (GET /api/v1/options), so a mistake is named with its
// place before anything is sent. Pure; tests in tests/ui/unit/spec-edit.test.js. The
// server checks everything again (an unknown URL scheme, a connection that does not exist).

import { validateStreamName } from './validate.js';

const TOP = ['name', 'mode', 'source', 'target', 'options'];
const SOURCE = ['connection', 'url', 'password', 'tables'];
const TARGET = ['connection', 'url', 'password'];

// Line and column (1-based) of offset pos in text.
function lineCol(text, pos) {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return { line, column: pos - before.lastIndexOf('\n') };
}

// The offset of the first JSON syntax error in text (the engines' messages do not always
// say where): a small recursive-descent scan; text.length when the text ends too early,
// -1 when there is none.
export function jsonErrorAt(text) {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = () => {
    throw i;
  };
  const lit = (w) => {
    if (text.startsWith(w, i)) i += w.length;
    else fail();
  };
  function str() {
    i++; // the opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] < ' ') fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? '')) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
  }
  function value() {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    } else if (c === '"') str();
    else if (c === 't') lit('true');
    else if (c === 'f') lit('false');
    else if (c === 'n') lit('null');
    else {
      const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
      if (!m) fail();
      i += m[0].length;
    }
  }
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (at) {
    return Math.min(at, text.length);
  }
}

function endpointErrors(ep, where, allowed, errors) {
  if (!ep || typeof ep !== 'object' || Array.isArray(ep)) {
    errors.push({ path: where, message: `"${where}" must be an object with a "connection" or a "url".` });
    return;
  }
  for (const k of Object.keys(ep))
    if (!allowed.includes(k))
      errors.push({ path: `${where}.${k}`, message: `"${where}" has no field "${k}" (fields: ${allowed.join(', ')}).` });
  const conn = typeof ep.connection === 'string' && ep.connection.trim() !== '';
  const url = typeof ep.url === 'string' && ep.url.trim() !== '';
  if (conn === url)
    errors.push({ path: where, message: `"${where}" needs either "connection" (a stored connection's name) or "url".` });
  if (ep.password !== undefined && typeof ep.password !== 'string')
    errors.push({ path: `${where}.password`, message: 'The password must be a string ("****" keeps the stored one).' });
  if (ep.tables !== undefined) {
    if (!Array.isArray(ep.tables)) errors.push({ path: `${where}.tables`, message: '"tables" must be a list of table names.' });
    else
      ep.tables.forEach((t, i) => {
        const ok = (typeof t === 'string' && t.trim() !== '') || (t && typeof t === 'object' && !Array.isArray(t));
        if (!ok) errors.push({ path: `${where}.tables[${i}]`, message: 'A table is a name such as "orders" or "public.orders".' });
      });
  }
}

function optionErrors(opts, table, mode, errors) {
  if (opts === undefined) return;
  if (!opts || typeof opts !== 'object' || Array.isArray(opts)) {
    errors.push({ path: 'options', message: '"options" must be an object.' });
    return;
  }
  for (const [k, v] of Object.entries(opts)) {
    const o = (table || []).find((r) => r.name === k);
    const path = `options.${k}`;
    if (!o) {
      errors.push({ path, message: `Unknown option "${k}"; the options are ${(table || []).map((r) => r.name).join(', ')}.` });
      continue;
    }
    if (o.type === 'bool' && typeof v !== 'boolean') errors.push({ path, message: `${k} is true or false.` });
    else if (o.type === 'int' || o.type === 'bytes') {
      const max = o.max ?? Number.MAX_SAFE_INTEGER;
      if (!Number.isInteger(v)) errors.push({ path, message: `${k} is a whole number (without quotes).` });
      else if (v < o.min || v > max)
        errors.push({ path, message: o.max === undefined || o.max === null ? `${k} is ${o.min} or more.` : `${k} is from ${o.min} to ${o.max}.` });
    } else if (o.type === 'enum') {
      const ok = (o.choices || []).filter((c) => (c.modes || []).includes(mode)).map((c) => c.value);
      if (!ok.includes(v)) errors.push({ path, message: `${k} is one of ${ok.join(', ')} in a ${mode} stream.` });
    } else if ((o.type === 'string' || o.type === 'char') && typeof v !== 'string') {
      errors.push({ path, message: `${k} is a string.` });
    }
  }
}

// Checks the editor's text: {spec, errors: [{path, message, line?, column?}]}; spec is the
// parsed object when it could be parsed (even with other errors), else null. table: the
// `options` array of GET /api/v1/options.
export function checkSpecText(text, table) {
  let spec;
  try {
    spec = JSON.parse(text);
  } catch (e) {
    const off = jsonErrorAt(text);
    const at = off >= 0 ? lineCol(text, off) : null;
    const what = off >= text.length ? 'it ends too early' : off >= 0 ? `unexpected ${JSON.stringify(text[off])}` : String(e.message || e);
    const where = at ? ` at line ${at.line}, column ${at.column}` : '';
    return { spec: null, errors: [{ path: '', message: `The spec is not valid JSON${where}: ${what}.`, ...(at || {}) }] };
  }
  const errors = [];
  if (!spec || typeof spec !== 'object' || Array.isArray(spec))
    return { spec: null, errors: [{ path: '', message: 'The spec is one JSON object: {"name", "mode", "source", "target", "options"}.' }] };
  for (const k of Object.keys(spec))
    if (!TOP.includes(k)) errors.push({ path: k, message: `Unknown field "${k}" (fields: ${TOP.join(', ')}).` });
  const nameErr = validateStreamName(typeof spec.name === 'string' ? spec.name : '');
  if (nameErr) errors.push({ path: 'name', message: nameErr });
  const mode = spec.mode === undefined ? 'load' : spec.mode;
  if (mode !== 'load' && mode !== 'cdc') errors.push({ path: 'mode', message: '"mode" is "load" or "cdc".' });
  endpointErrors(spec.source, 'source', SOURCE, errors);
  endpointErrors(spec.target, 'target', TARGET, errors);
  optionErrors(spec.options, table, mode === 'cdc' ? 'cdc' : 'load', errors);
  return { spec, errors };
}

// What a saved edit means for the stream, in words (changes the editor warns about): a
// change stream that has handed over keeps the tables it streams; a mode change is a new
// stream in all but name.
export function editNotes(before, after) {
  const notes = [];
  if (!before || !after) return notes;
  if ((before.mode || 'load') !== (after.mode || 'load'))
    notes.push('The mode changes: the stream\'s checkpoints were written by the other mode; to switch modes, create a new stream.');
  const tb = JSON.stringify(before.source?.tables ?? null), ta = JSON.stringify(after.source?.tables ?? null);
  if (tb !== ta && (after.mode || 'load') === 'cdc')
    notes.push('The tables change: a change stream that has started streaming keeps the tables it has; create another stream for other tables.');
  else if (tb !== ta)
    notes.push('The tables change: a load loads the tables added to the list at its next start and leaves the others as they are.');
  return notes;
}

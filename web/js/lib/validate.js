// validate.js: the checks a form makes before it sends anything, with the message shown
// next to the field, and the mapping of an API error back to the field it is about. Pure;
// tests in tests/ui/unit/validate.test.js. The server checks everything again: these only
// spare the user a round trip and say what is expected in words.

// Connection kinds, the URL schemes each accepts and an example URL for the form.
export const KINDS = {
  postgres: {
    label: 'PostgreSQL',
    schemes: ['postgres', 'postgresql'],
    example: 'postgres://user@127.0.0.1:5432/shop',
  },
  mysql: {
    label: 'MySQL / MariaDB',
    schemes: ['mysql', 'mariadb'],
    example: 'mysql://repl@127.0.0.1:3306/shop',
  },
  file: { label: 'File folder', schemes: ['file'], example: 'file:///var/lib/sluice/out' },
  s3: { label: 'S3 bucket', schemes: ['s3'], example: 's3://bucket/prefix?endpoint=http://127.0.0.1:9000' },
};

// The kind of a URL by its scheme ("postgres", "mysql", "file", "s3"), or null.
export function kindOfUrl(url) {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(String(url || '').trim());
  if (!m) return null;
  const s = m[1].toLowerCase();
  for (const [k, v] of Object.entries(KINDS)) if (v.schemes.includes(s)) return k;
  return null;
}

// Whether a connection of kind is a database (has tables, can be a stream's source).
export function isDatabase(kind) {
  return kind === 'postgres' || kind === 'mysql';
}

const CONN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const STREAM_NAME = /^[A-Za-z0-9_-]{1,100}$/;

// Checks a connection form {kind, name, url, password, access_key_id, secret_access_key};
// returns {field: message} for each bad field ({} when it may be sent).
export function validateConnection(f) {
  const errs = {};
  const name = (f.name || '').trim();
  if (!name) errs.name = 'Give the connection a name.';
  else if (!CONN_NAME.test(name))
    errs.name =
      'Use 1–63 letters, digits, "_", "." or "-", starting with a letter or digit.';
  const url = (f.url || '').trim();
  const kind = KINDS[f.kind] ? f.kind : null;
  if (!url) errs.url = `Enter the URL, e.g. ${kind ? KINDS[kind].example : KINDS.postgres.example}.`;
  else {
    const k = kindOfUrl(url);
    if (!k)
      errs.url = `The URL must start with one of ${Object.values(KINDS)
        .flatMap((v) => v.schemes.map((s) => s + '://'))
        .join(', ')}.`;
    else if (kind && k !== kind)
      errs.url = `A ${KINDS[kind].label} URL starts with ${KINDS[kind].schemes
        .map((s) => s + '://')
        .join(' or ')}.`;
    else if (/\s/.test(url)) errs.url = 'The URL must not contain spaces.';
  }
  if (kind === 's3' && !!(f.access_key_id || '').trim() !== !!(f.secret_access_key || '').trim() &&
      (f.secret_access_key || '') !== '****')
    errs.secret_access_key = 'Give both the access key id and the secret access key, or neither.';
  return errs;
}

// Checks a stream name; returns the message or null.
export function validateStreamName(name) {
  const n = (name || '').trim();
  if (!n) return 'Give the stream a name.';
  if (!STREAM_NAME.test(n)) return 'Use at most 100 letters, digits, "-" or "_".';
  return null;
}

// The spec's options are the server's: GET /api/v1/options returns the property table that
// parses specs (docs/api.md "Options"), and the functions below take its `options` array,
// so a limit or a choice never differs between the form and the server.

// The options a form offers for mode ("load" | "cdc"): integers and choices that matter in
// that mode, each enum with only the choices the mode accepts (write_mode "upsert", listed
// by the server as not built yet, is accepted by no mode).
export function formOptions(table, mode) {
  return (table || [])
    .filter((o) => (o.type === 'int' || o.type === 'enum') && (o.modes || []).includes(mode))
    .map((o) => (o.type === 'enum' ? { ...o, choices: o.choices.filter((c) => (c.modes || []).includes(mode)) } : o));
}

// Checks the wizard's options {name: string from an input} against the table for mode;
// empty means the default. Returns {field: message}.
export function validateOptions(opts, table, mode) {
  const errs = {};
  for (const o of formOptions(table, mode)) {
    const v = opts[o.name];
    if (v === undefined || v === null || String(v).trim() === '') continue;
    const s = String(v).trim();
    if (o.type === 'int') {
      const max = o.max ?? Number.MAX_SAFE_INTEGER;
      if (!/^\d+$/.test(s)) errs[o.name] = 'Enter a whole number, or leave empty for the default.';
      else if (Number(s) < o.min || Number(s) > max)
        errs[o.name] = o.max === undefined ? `Enter a number from ${o.min} up.` : `Enter a number from ${o.min} to ${o.max}.`;
    } else {
      const vals = o.choices.map((c) => c.value);
      if (!vals.includes(s)) errs[o.name] = `Choose one of ${vals.join(', ')}.`;
    }
  }
  return errs;
}

// The form field an API error is about, among fields (names as the API spells them), or
// null: unknown_field and invalid_field name the field in their message or detail
// ("unknown field \"pasword\"", "invalid field \"url\": …"); name_taken is about the name.
export function errorField(err, fields) {
  if (!err) return null;
  if (err.code === 'name_taken' && fields.includes('name')) return 'name';
  const text = `${err.message || ''} ${err.detail || ''}`;
  let best = null;
  let bestAt = Infinity;
  for (const f of fields) {
    const re = new RegExp(`(^|[^A-Za-z0-9_])${f.replace(/[.]/g, '\\.')}($|[^A-Za-z0-9_])`);
    const m = re.exec(text);
    if (m && m.index < bestAt) {
      best = f;
      bestAt = m.index;
    }
  }
  return best;
}

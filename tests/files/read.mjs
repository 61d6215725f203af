#!/usr/bin/env node
// read.mjs: reads a CSV, JSONL or Parquet file that sluice wrote, with an independent
// reader, and prints its rows in sluice's canonical text so tests can compare them with
// the source.
//
//   node read.mjs FILE [--reader duckdb|hyparquet] [--format csv|jsonl|parquet]
//                 [--types T1,T2,...] [--delim C] [--null MARKER] [--no-header]
//                 [--expect EXPECTED.jsonl] [--codec NAME] [--dict] [--stats] [--meta]
//   node read.mjs --batch FILE   (one JSON array of the arguments above per line)
//
// OUTPUT (stdout): one JSON array per row, in file order, one cell per column in table
// order. A cell is null (SQL NULL) or a string holding the value's canonical text as
// src/model/types.h defines it, the same text tests/lib/dump.sh prints for PostgreSQL:
//   bool "t"/"f"; integers in decimal; floats in shortest round-trip form as PostgreSQL
//   prints them (exponent below 1e-4 and from 1e15, 1e6 for float32: "1e+15", "1.5e-05"),
//   "NaN", "Infinity", "-Infinity"; decimals with exactly `scale` fraction digits;
//   date "YYYY-MM-DD"; time "HH:MM:SS[.ffffff]" and timestamps "YYYY-MM-DD HH:MM:SS[.ffffff]"
//   with trailing fraction zeros dropped; timestamptz the same plus "+00"; uuid lowercase;
//   bytes and geometry "\x" + lowercase hex (not the len=/md5= abbreviation of dump.sh);
//   json the text as stored (Parquet, CSV) or as embedded in the JSONL line;
//   everything else the text itself.
// Where this differs from dump.sh: MariaDB prints DATETIME(n)/TIME(n) with all n fraction
// digits and FLOAT as its exact double, PostgreSQL prints jsonb normalized; long values are
// not abbreviated here (tests/lib/files_cells.mjs turns these rows into dump.sh lines).
//
// Formats: Parquet by DuckDB (read_parquet) or hyparquet (+ hyparquet-compressors);
// CSV and JSONL by DuckDB only (read_csv with all_varchar and the NULL marker, or
// read_json_objects). .gz/.zst suffixes are decompressed by DuckDB. CSV cells are already
// canonical text. JSONL needs --types (sluice type names, as in plans: int64, bytes,
// timestamptz, ...) to turn base64, ISO 8601 timestamps and JSON numbers back into
// canonical text; without it strings print as they are and numbers as their JSON text.
//
// --expect FILE compares with a file in the same shape (one JSON array per row) instead of
// printing, and exits 1 naming the first differing rows and columns. --codec NAME
// (UNCOMPRESSED, SNAPPY, GZIP, ZSTD) and --dict assert on DuckDB's parquet_metadata():
// every column chunk uses that codec / some column chunk uses RLE_DICTIONARY. --stats
// (hyparquet) checks every column chunk's statistics against its values. --meta
// prints {"columns": [...], "row_groups": N, "rows": N, "codecs": [...], "encodings": [...]}.
import fs from 'node:fs'

import { pgFloat, decimal, dateText, timeText, tsText, hex, duckCell } from './canon.mjs'

let opt, file

// Parses one command line into opt and file.
function parseArgs(args) {
  opt = { reader: 'duckdb', delim: ',', null: '', header: true }
  file = undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (a === '--reader') opt.reader = args[++i]
    else if (a === '--format') opt.format = args[++i]
    else if (a === '--types') opt.types = args[++i].split(',')
    else if (a === '--delim') opt.delim = args[++i]
    else if (a === '--null') opt.null = args[++i]
    else if (a === '--no-header') opt.header = false
    else if (a === '--expect') opt.expect = args[++i]
    else if (a === '--codec') opt.codec = args[++i].toUpperCase()
    else if (a === '--dict') opt.dict = true
    else if (a === '--meta') opt.meta = true
    else if (a === '--stats') opt.stats = true
    else if (a === '--batch') opt.batch = args[++i]
    else if (!file) file = a
    else fail(`unexpected argument ${a}`)
  }
  if (opt.batch) return
  if (!file) fail('usage: read.mjs FILE [--reader duckdb|hyparquet] [--format F] [--types ...] [--expect F]')
  if (!opt.format) {
    const m = file.replace(/\.(gz|zst)$/, '').match(/\.(csv|jsonl|parquet)$/)
    if (!m) fail(`cannot tell the format of ${file}: use --format`)
    opt.format = m[1]
  }
}

function fail(msg) {
  process.stderr.write(`read.mjs: ${msg}\n`)
  process.exit(2)
}

// --- Parquet with DuckDB ------------------------------------------------------------

let sharedCon
async function duckdb() {
  if (sharedCon) return sharedCon
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const inst = await DuckDBInstance.create(':memory:')
  sharedCon = await inst.connect()
  await sharedCon.run("SET TimeZone = 'UTC'")
  return sharedCon
}

const sqlStr = (s) => `'${s.replace(/'/g, "''")}'`

async function duckParquet() {
  const con = await duckdb()
  const r = await con.runAndReadAll(`SELECT * FROM read_parquet(${sqlStr(file)})`)
  const types = r.columnTypes().map(t => t.toString())
  const rows = r.getRows().map(row => row.map((v, i) => duckCell(v, types[i])))
  return { con, names: r.columnNames(), rows }
}


async function duckMeta(con) {
  const r = await con.runAndReadAll(`SELECT row_group_id, compression, encodings, num_values
      FROM parquet_metadata(${sqlStr(file)})`)
  return r.getRowObjectsJS()
}

// --- Parquet with hyparquet ----------------------------------------------------------

async function hyParquet() {
  const { parquetMetadata, parquetRead } = await import('hyparquet')
  const { compressors } = await import('hyparquet-compressors')
  const buf = fs.readFileSync(file)
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  const md = parquetMetadata(ab)
  // Decimals: hyparquet turns them into doubles, which loses digits; read the raw
  // integers instead (by hiding the annotation) and scale them here.
  const leaves = md.schema.slice(1)
  const kinds = leaves.map(el => {
    const lt = el.logical_type || {}
    if (el.converted_type === 'DECIMAL' || lt.type === 'DECIMAL') {
      const scale = el.scale ?? lt.scale ?? 0
      el.converted_type = undefined
      el.logical_type = undefined
      return { k: 'decimal', scale }
    }
    if (lt.type === 'TIMESTAMP') return { k: 'ts', utc: lt.isAdjustedToUTC }
    if (el.converted_type === 'TIMESTAMP_MICROS') return { k: 'ts', utc: true }
    if (lt.type === 'TIME' || el.converted_type === 'TIME_MICROS') return { k: 'time' }
    if (lt.type === 'DATE' || el.converted_type === 'DATE') return { k: 'date' }
    if (lt.type === 'UUID') return { k: 'uuid' }
    if (el.converted_type === 'UTF8' || el.converted_type === 'JSON' || lt.type === 'STRING' || lt.type === 'JSON') return { k: 'text' }
    return { k: el.type }
  })
  const parsers = {
    timestampFromMicroseconds: (v) => v,
    dateFromDays: (v) => v,
    jsonFromBytes: (b) => b && new TextDecoder().decode(b),
    stringFromBytes: (b) => b && new TextDecoder().decode(b),
  }
  let rows
  await parquetRead({ file: ab, metadata: md, compressors, parsers, utf8: false, rowFormat: 'array',
    onComplete: (r) => { rows = r } })
  const bad = opt.stats ? checkStats(parquetMetadata(ab, { parsers: { ...parsers, stringFromBytes: (b) => b } }),
    rows, kinds, leaves) : 0
  return {
    names: leaves.map(el => el.name),
    rows: rows.map(row => row.map((v, i) => hyCell(v, kinds[i]))),
    bad,
  }
}

// --stats: every column chunk's null_count, min_value and max_value (when present) must be
// what the values read from that row group give, in the column's sort order: signed or
// unsigned integers, numbers without NaN (-0 as min, +0 as max), bytes compared unsigned.
function checkStats(md, rows, kinds, leaves) {
  let bad = 0, start = 0
  const say = (msg) => { process.stderr.write(`read.mjs: ${file}: ${msg}\n`); bad++ }
  md.row_groups.forEach((rg, g) => {
    const n = Number(rg.num_rows)
    rg.columns.forEach((cc, i) => {
      const st = cc.meta_data.statistics || {}
      const kind = kinds[i]
      const all = rows.slice(start, start + n).map(r => r[i])
      const vals = all.filter(v => v !== null && v !== undefined)
      if (st.null_count !== undefined && Number(st.null_count) !== n - vals.length) {
        say(`row group ${g} column ${leaves[i].name}: null_count ${st.null_count}, counted ${n - vals.length}`)
      }
      if (st.min_value === undefined && st.max_value === undefined) return
      // comparable form of a value and the form hyparquet gives statistics in
      let key = (v) => v, form = (v) => v
      if (kind.k === 'decimal') {
        key = (v) => v instanceof Uint8Array ? beSigned(v) : BigInt(v)
        form = (x) => Number(x) / 10 ** kind.scale
      } else if (kind.k === 'text') {
        key = (v) => Buffer.from(v, 'utf8')
      } else if (kind.k === 'ts' || kind.k === 'time') {
        key = (v) => BigInt(v)
      } else if (kind.k === 'BYTE_ARRAY' || kind.k === 'FIXED_LEN_BYTE_ARRAY') {
        key = (v) => Buffer.from(v)
      }
      const keys = vals.map(key).filter(x => !(typeof x === 'number' && Number.isNaN(x)))
      const cmp = (a, b) => Buffer.isBuffer(a) ? Buffer.compare(a, b) : (a < b ? -1 : a > b ? 1 : 0)
      if (!keys.length) return say(`row group ${g} column ${leaves[i].name}: min/max without values`)
      let mn = keys[0], mx = keys[0]
      for (const x of keys) { if (cmp(x, mn) < 0) mn = x; if (cmp(x, mx) > 0) mx = x }
      if (kind.k === 'FLOAT' || kind.k === 'DOUBLE') { // the spec's signed-zero rule
        if (mn === 0) mn = -0
        if (mx === 0) mx = 0
      }
      const same = (a, b) => Buffer.isBuffer(a) ? Buffer.from(b).equals(a) : Object.is(a, b) || (typeof a === 'bigint' && BigInt(b) === a)
      const want = [form(mn), form(mx)], got = [st.min_value, st.max_value]
      for (const j of [0, 1]) {
        if (!same(want[j], got[j])) {
          say(`row group ${g} column ${leaves[i].name}: ${j ? 'max' : 'min'} ${String(got[j])}, values give ${String(want[j])}`)
        }
      }
    })
    start += n
  })
  return bad
}

function hyCell(v, kind) {
  if (v === null || v === undefined) return null
  switch (kind.k) {
    case 'decimal': return decimal(v instanceof Uint8Array ? beSigned(v) : v, kind.scale)
    case 'ts': return tsText(v, kind.utc)
    case 'time': return timeText(v)
    case 'date': return dateText(v)
    case 'uuid': return String(v).toLowerCase()
    case 'text': return v
    case 'BOOLEAN': return v ? 't' : 'f'
    case 'FLOAT': return pgFloat(v, true)
    case 'DOUBLE': return pgFloat(v, false)
    case 'BYTE_ARRAY': case 'FIXED_LEN_BYTE_ARRAY': return hex(v)
    default: return String(v)
  }
}

function beSigned(bytes) {
  let v = 0n
  for (const b of bytes) v = v * 256n + BigInt(b)
  if (bytes.length && bytes[0] & 0x80) v -= 1n << BigInt(bytes.length * 8)
  return v
}

// --- CSV and JSONL with DuckDB ------------------------------------------------------

async function duckCsv() {
  const con = await duckdb()
  const r = await con.runAndReadAll(`SELECT * FROM read_csv(${sqlStr(file)}, all_varchar = true,
      header = ${opt.header}, delim = ${sqlStr(opt.delim)}, quote = '"', escape = '"',
      nullstr = ${sqlStr(opt.null)}, allow_quoted_nulls = false, auto_detect = false,
      columns = ${await csvColumns(con)}, strict_mode = true)`)
  return { names: r.columnNames(), rows: r.getRows().map(row => row.map(v => v ?? null)) }
}

// read_csv without auto-detection needs the column list: take it from the header row.
async function csvColumns(con) {
  const r = await con.runAndReadAll(`SELECT * FROM read_csv(${sqlStr(file)}, all_varchar = true,
      header = ${opt.header}, delim = ${sqlStr(opt.delim)}, quote = '"', escape = '"') LIMIT 0`)
  const names = r.columnNames()
  return '{' + names.map(n => `${sqlStr(n)}: 'VARCHAR'`).join(', ') + '}'
}

async function duckJsonl() {
  const con = await duckdb()
  const r = await con.runAndReadAll(`SELECT json::VARCHAR FROM read_json_objects(${sqlStr(file)},
      format = 'newline_delimited')`)
  let names
  const rows = r.getRows().map(([text]) => {
    const obj = parseJson(text)
    names ??= obj.map(([k]) => k)
    return obj.map(([, v], i) => jsonCell(v, opt.types?.[i]))
  })
  return { names: names || [], rows }
}

// A JSON parser that keeps numbers (and embedded objects) as their source text and
// objects as [key, value] pairs in order.
function parseJson(s) {
  let i = 0
  const ws = () => { while (' \t\r\n'.includes(s[i]) && i < s.length) i++ }
  function value() {
    ws()
    const start = i
    const c = s[i]
    if (c === '"') return { str: string() }
    if (c === '{' || c === '[') { skipNested(); return { raw: s.slice(start, i) } }
    while (i < s.length && !',}] \t\r\n'.includes(s[i])) i++
    return { raw: s.slice(start, i) }
  }
  function string() {
    const start = i++
    while (s[i] !== '"') i += s[i] === '\\' ? 2 : 1
    i++
    return JSON.parse(s.slice(start, i))
  }
  function skipNested() {
    let depth = 0
    do {
      if (s[i] === '"') { string(); continue }
      if (s[i] === '{' || s[i] === '[') depth++
      if (s[i] === '}' || s[i] === ']') depth--
      i++
    } while (depth > 0)
  }
  ws()
  if (s[i++] !== '{') throw new Error(`not a JSON object: ${s.slice(0, 80)}`)
  const out = []
  ws()
  if (s[i] === '}') return out
  for (;;) {
    ws()
    const k = string()
    ws()
    i++ // ':'
    out.push([k, value()])
    ws()
    if (s[i++] === '}') return out
  }
}

function jsonCell(v, type) {
  if (v.raw === 'null') return null
  if (v.raw !== undefined) {
    if (v.raw === 'true') return 't'
    if (v.raw === 'false') return 'f'
    if (type === 'float32') return pgFloat(Math.fround(Number(v.raw)), true)
    if (type === 'float64') return pgFloat(Number(v.raw), false)
    return v.raw
  }
  const s = v.str
  switch (type) {
    case 'bytes': case 'geometry': return hex(Buffer.from(s, 'base64'))
    case 'timestamp': case 'timestamptz': {
      if (s === 'infinity' || s === '-infinity') return s
      const m = s.match(/^(.*)T(.*?)(Z?)$/)
      return m ? `${m[1]} ${m[2]}${m[3] ? '+00' : ''}` : s
    }
    default: return s
  }
}

// --- main ---------------------------------------------------------------------------

// Runs one command line; returns the number of failed checks.
async function runOne(args) {
  parseArgs(args)
  let res
  if (opt.format === 'parquet') res = opt.reader === 'hyparquet' ? await hyParquet() : await duckParquet()
  else if (opt.reader !== 'duckdb') fail(`${opt.format} files are read with DuckDB only`)
  else if (opt.format === 'csv') res = await duckCsv()
  else if (opt.format === 'jsonl') res = await duckJsonl()
  else fail(`unknown format ${opt.format}`)

  let bad = res.bad || 0
  if ((opt.codec || opt.dict || opt.meta) && opt.format === 'parquet') {
    const con = res.con || await duckdb()
    const md = await duckMeta(con)
    const codecs = [...new Set(md.map(m => m.compression))]
    const encodings = [...new Set(md.flatMap(m => String(m.encodings).split(/,\s*/)))]
    const rowGroups = new Set(md.map(m => String(m.row_group_id))).size
    if (opt.meta) {
      process.stdout.write(JSON.stringify({ columns: res.names, row_groups: rowGroups, rows: res.rows.length, codecs, encodings }) + '\n')
    }
    if (opt.codec && md.some(m => m.compression !== opt.codec)) {
      process.stderr.write(`read.mjs: expected codec ${opt.codec} in every column chunk, found ${codecs.join(', ')}\n`)
      bad++
    }
    if (opt.dict && !encodings.includes('RLE_DICTIONARY')) {
      process.stderr.write(`read.mjs: no column chunk uses RLE_DICTIONARY (${encodings.join(', ')})\n`)
      bad++
    }
  }

  if (opt.expect) {
    const want = fs.readFileSync(opt.expect, 'utf8').split('\n').filter(l => l !== '').map(l => JSON.parse(l))
    if (want.length !== res.rows.length) {
      process.stderr.write(`read.mjs: ${file}: ${res.rows.length} rows, expected ${want.length}\n`)
      bad++
    }
    for (let r = 0; r < Math.min(want.length, res.rows.length) && bad < 10; r++) {
      for (let c = 0; c < want[r].length; c++) {
        if (want[r][c] !== res.rows[r][c]) {
          const show = (x) => { const j = JSON.stringify(x); return j.length > 120 ? j.slice(0, 120) + '...' : j }
          process.stderr.write(`read.mjs: ${file}: row ${r + 1} column ${c + 1} (${res.names[c]}): got ${show(res.rows[r][c])}, expected ${show(want[r][c])}\n`)
          if (++bad >= 10) break
        }
      }
    }
    return bad
  } else if (!opt.meta) {
    const out = res.rows.map(r => JSON.stringify(r)).join('\n')
    process.stdout.write(out + (out ? '\n' : ''))
  }
  return bad
}

parseArgs(process.argv.slice(2))
if (opt.batch) {
  // --batch FILE: one JSON array of arguments per line, all run in this process (one
  // DuckDB instance), so a test can check many files without starting node each time.
  const lines = fs.readFileSync(opt.batch, 'utf8').split('\n').filter(l => l.trim() !== '')
  let failed = 0
  for (const l of lines) {
    const args = JSON.parse(l)
    const bad = await runOne(args)
    if (bad) process.stderr.write(`read.mjs: FAILED: ${args.join(' ')}\n`)
    failed += bad ? 1 : 0
  }
  exitAfterFlush(failed ? 1 : 0)
} else {
  exitAfterFlush(await runOne(process.argv.slice(2)) ? 1 : 0)
}

// process.exit() drops what is still queued for a pipe: exit once stdout has taken
// everything written before (writes complete in order).
function exitAfterFlush (code) {
  process.stdout.write('', () => process.exit(code))
}

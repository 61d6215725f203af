#!/usr/bin/env node
// pq_check.mjs: validates sluice's Parquet reader against independent writers. It writes
// Parquet files with DuckDB (every DuckDB type that Parquet holds, NULLs, lists, structs,
// maps, extremes; every codec DuckDB writes; data pages v1 and v2; several row group
// sizes) and with parquet-wasm (arrow-rs: DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
// DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT, RLE booleans, LZ4 and LZ4_RAW, small pages, every
// integer width, time and timestamp units), reads each with sluice (tests/files/pq_dump)
// and with DuckDB, and compares them value by value in canonical text (canon.mjs).
//
//   node pq_check.mjs PQ_DUMP WORKDIR      exit 0 when every file matches
//
// Lists compare as PostgreSQL array literals, nested values (structs, maps, lists of
// lists) as parsed JSON; floats by their shortest text. Files are generated at test time
// under WORKDIR (nothing binary is committed). The last line says "N passed, M failed".
import fs from 'node:fs'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { cell, sameJson } from './canon.mjs'

const [pqDump, work] = process.argv.slice(2)
if (!pqDump || !work) {
  process.stderr.write('usage: pq_check.mjs PQ_DUMP WORKDIR\n')
  process.exit(2)
}
fs.mkdirSync(work, { recursive: true })

const { DuckDBInstance } = await import('@duckdb/node-api')
const inst = await DuckDBInstance.create(':memory:')
const con = await inst.connect()
await con.run("SET TimeZone = 'UTC'")
const sqlStr = (s) => `'${s.replace(/'/g, "''")}'`

// --- checking one file -----------------------------------------------------------------

let passed = 0, failed = 0

async function check(file, note, opts = {}) {
  let out
  try {
    out = execFileSync(pqDump, [file, ...(opts.window ? ['--window', String(opts.window)] : [])],
      { maxBuffer: 1 << 30, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (e) {
    return bad(file, note, `pq_dump failed: ${String(e.stderr || e.message).trim()}`)
  }
  const lines = out.split('\n').filter(l => l !== '')
  const meta = JSON.parse(lines[0])
  const ours = lines.slice(1).map(l => JSON.parse(l))
  // DuckDB reads neither the old LZ4 codec nor BYTE_STREAM_SPLIT integers: it reads the
  // same rows from a reference file written with defaults instead
  const ref = opts.ref || file
  const desc = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlStr(ref)})`)).getRowObjectsJS()
  const exprs = meta.columns.map((c, i) => {
    const q = `"${desc[i].column_name.replace(/"/g, '""')}"`
    return c.type === 'json' && desc[i].column_type !== 'JSON' ? `to_json(${q})::VARCHAR` : q
  })
  const r = await con.runAndReadAll(`SELECT ${exprs.join(', ')} FROM read_parquet(${sqlStr(ref)})`)
  const types = r.columnTypes().map(t => t.toString())
  const theirs = r.getRows().map(row => row.map((v, i) => cell(v, types[i])))
  if (meta.rows !== theirs.length || ours.length !== theirs.length) {
    return bad(file, note, `rows: sluice ${ours.length} (footer ${meta.rows}), DuckDB ${theirs.length}`)
  }
  let errs = []
  for (let rI = 0; rI < ours.length && errs.length < 5; rI++) {
    for (let cI = 0; cI < meta.columns.length && errs.length < 5; cI++) {
      const a = ours[rI][cI], b = theirs[rI][cI], col = meta.columns[cI]
      let same = a === b
      if (!same && a !== null && b !== null && col.type === 'json') {
        try { same = sameJson(JSON.parse(a), JSON.parse(b)) } catch { same = false }
      }
      if (!same) errs.push(`row ${rI + 1} column ${col.name} (${col.type} ${col.native}): sluice ${JSON.stringify(a)}, DuckDB ${JSON.stringify(b)}`)
    }
  }
  if (errs.length) return bad(file, note, errs.join('\n  '))
  if (opts.expectTypes) {
    for (const [name, type] of Object.entries(opts.expectTypes)) {
      const c = meta.columns.find(x => x.name === name)
      const got = c && (c.type === 'array' ? `${c.elem}[]` : c.type)
      if (got !== type) return bad(file, note, `column ${name}: type ${got}, expected ${type}`)
    }
  }
  passed++
  process.stdout.write(`ok   ${path.basename(file)} (${note}): ${ours.length} rows, ${meta.row_groups} row groups\n`)
}

function bad(file, note, msg) {
  failed++
  process.stdout.write(`FAIL ${file} (${note}):\n  ${msg}\n`)
}

// --- DuckDB's files ----------------------------------------------------------------------

await con.run("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
// 5,000 rows of every type: h is a hash for variety; every 7th row (by column offset) NULL.
await con.run(`CREATE TABLE t AS
  WITH s AS (SELECT i, hash(i) h FROM range(5000) r(i))
  SELECT i::BIGINT id,
    CASE WHEN i % 7 = 0 THEN NULL ELSE h % 2 = 0 END b,
    CASE WHEN i % 7 = 1 THEN NULL ELSE ((h % 256)::INT - 128)::TINYINT END i8,
    ((h % 65536)::INT - 32768)::SMALLINT i16,
    CASE WHEN i % 7 = 2 THEN NULL ELSE ((h % 4294967296)::BIGINT - 2147483648)::INTEGER END i32,
    CASE WHEN i = 1 THEN -9223372036854775808 WHEN i = 2 THEN 9223372036854775807 ELSE (h >> 1)::BIGINT * (CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END) END i64,
    (h % 256)::UTINYINT u8, (h % 65536)::USMALLINT u16, (h % 4294967296)::UINTEGER u32,
    CASE WHEN i = 3 THEN 18446744073709551615 ELSE h END::UBIGINT u64,
    CASE WHEN i = 4 THEN 'NaN'::FLOAT WHEN i = 5 THEN '-inf'::FLOAT WHEN i = 6 THEN -0.0::FLOAT ELSE ((h % 2000000)::DOUBLE / 7.0 - 100000)::FLOAT END f32,
    CASE WHEN i % 7 = 3 THEN NULL WHEN i = 4 THEN 'inf'::DOUBLE WHEN i = 8 THEN 1e300 WHEN i = 9 THEN 5e-324 ELSE (h::DOUBLE / 3.0e15) * (CASE WHEN i % 3 = 0 THEN -1 ELSE 1 END) END f64,
    (((h % 19999)::INT - 9999)::DECIMAL(4,0) * 0.01::DECIMAL(3,2))::DECIMAL(4,2) d4,
    (((h % 1999999999999999999)::HUGEINT - 999999999999999999)::DECIMAL(18,0) * 0.000001::DECIMAL(7,6))::DECIMAL(18,6) d18,
    CASE WHEN i = 10 THEN 9999999999999999999999999999.9999999999::DECIMAL(38,10) WHEN i = 11 THEN -9999999999999999999999999999.9999999999::DECIMAL(38,10) ELSE ((h::HUGEINT * 1234567 - 17)::DECIMAL(38,0) * 0.001::DECIMAL(4,3))::DECIMAL(38,10) END d38,
    CASE WHEN i % 7 = 4 THEN NULL WHEN i % 11 = 0 THEN '' ELSE 'v' || (h % 1000)::VARCHAR || CASE WHEN i % 5 = 0 THEN ' "quoted", ü € 😀' ELSE '' END END s,
    ['red', 'green', 'blue'][(i % 3 + 1)::INT] lowcard,
    CASE WHEN i % 7 = 5 THEN NULL ELSE ('\\x' || lpad(to_hex(h % 65536), 4, '0'))::BLOB END bl,
    CASE WHEN i = 12 THEN DATE '0044-03-15 (BC)' WHEN i = 13 THEN 'infinity'::DATE WHEN i = 14 THEN DATE '9999-12-31' ELSE DATE '2000-01-01' + ((h % 40000)::INT - 20000) END dt,
    make_time(((h % 24))::INT, ((h >> 8) % 60)::INT, ((h >> 16) % 60000000)::DOUBLE / 1000000) tm,
    CASE WHEN i = 15 THEN 'infinity'::TIMESTAMP WHEN i = 16 THEN TIMESTAMP '1900-01-01 00:00:00.000001' ELSE TIMESTAMP '2000-01-01' + to_microseconds(((h % 3000000000000000)::BIGINT - 1500000000000000)) END ts,
    (TIMESTAMP '2000-01-01' + to_milliseconds(((h % 3000000000000)::BIGINT - 1500000000000)))::TIMESTAMP_MS ts_ms,
    (TIMESTAMP '2000-01-01' + to_microseconds(((h % 3000000000000000)::BIGINT - 1500000000000000)))::TIMESTAMP_NS ts_ns,
    (TIMESTAMP '2000-01-01' + to_seconds(((h % 3000000000)::BIGINT - 1500000000)))::TIMESTAMP_S ts_s,
    CASE WHEN i % 7 = 6 THEN NULL ELSE (TIMESTAMP '2000-01-01' + to_microseconds((h % 3000000000000000)::BIGINT))::TIMESTAMPTZ END tstz,
    md5(i::VARCHAR)::UUID u,
    CASE WHEN i % 4 = 0 THEN NULL ELSE json_object('k', i, 'a', [1.0, 2.5], 's', 'x', 'n', NULL) END::JSON j,
    ['sad', 'ok', 'happy'][(i % 3 + 1)::INT]::mood e,
    to_months((h % 100)::INT) + to_days((h % 40)::INT) + to_milliseconds((h % 90000000)::BIGINT) iv,
    CASE WHEN i % 6 = 0 THEN NULL WHEN i % 6 = 1 THEN [] ELSE [i::INT, NULL, (h % 1000)::INT] END l,
    CASE WHEN i % 5 = 0 THEN NULL ELSE ['a', '', 'x y', 'NULL', 'q"b', NULL] END ls,
    CASE WHEN i % 4 = 0 THEN [[1, 2], [], NULL, [NULL, 3]] WHEN i % 4 = 1 THEN NULL ELSE [[i::INT]] END ll,
    CASE WHEN i % 3 = 0 THEN NULL ELSE {'a': i::INT, 'b': 'x' || i, 'c': [1.5, NULL], 'd': {'e': i % 2 = 0}} END st,
    CASE WHEN i % 3 = 1 THEN NULL ELSE MAP {'k1': i::INT, 'k2': NULL} END m,
    CASE WHEN i % 2 = 0 THEN [{'x': 1, 'y': 'a'}, NULL] ELSE [] END lst,
    make_time((h % 24)::INT, 0, 0)::TIMETZ ttz
  FROM s`)

const codecs = ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4_raw']
for (const version of ['v1', 'v2']) {
  for (const codec of codecs) {
    const f = path.join(work, `duck_${version}_${codec}.parquet`)
    const rg = codec === 'zstd' ? 1000 : codec === 'gzip' ? 2048 : 122880
    await con.run(`COPY t TO ${sqlStr(f)} (FORMAT parquet, COMPRESSION ${codec}, PARQUET_VERSION ${version}, ROW_GROUP_SIZE ${rg})`)
    await check(f, `DuckDB ${version} ${codec}, row groups of ${rg}`, codec === 'snappy' && version === 'v1' ? {
      expectTypes: {
        b: 'bool', i8: 'int16', i16: 'int16', i32: 'int32', i64: 'int64', u8: 'int16', u16: 'int32',
        u32: 'int64', u64: 'uint64', f32: 'float32', f64: 'float64', d4: 'decimal', d18: 'decimal',
        d38: 'decimal', s: 'text', bl: 'bytes', dt: 'date', tm: 'time', ts: 'timestamp',
        tstz: 'timestamptz', u: 'uuid', j: 'json', e: 'text', iv: 'interval', l: 'int32[]',
        ls: 'text[]', ll: 'json', st: 'json', m: 'json', lst: 'json', ttz: 'timetz',
      },
    } : {})
  }
}
// Many pages and a dictionary that falls back to plain: 300,000 rows, small windows.
{
  const f = path.join(work, 'duck_big.parquet')
  await con.run(`COPY (SELECT i, i % 1000 AS low, 'row ' || i AS s, i * 0.5 AS d, [i, i + 1] AS l,
                   CASE WHEN i % 3 = 0 THEN NULL ELSE i END AS n FROM range(300000) r(i))
                 TO ${sqlStr(f)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)`)
  await check(f, 'DuckDB 300,000 rows, read through 4 KiB windows', { window: 4096 })
}

// --- arrow-rs (parquet-wasm) files --------------------------------------------------------

const arrow = await import('apache-arrow')
const pw = await import('parquet-wasm/esm')
// the package's node build is CommonJS under "type": "module"; the ESM build loads its
// WebAssembly from bytes
pw.initSync({ module: fs.readFileSync(createRequire(import.meta.url).resolve('parquet-wasm/esm/parquet_wasm_bg.wasm')) })
{
  const n = 3000
  const A = arrow
  const col = (type, f) => A.vectorFromArray(Array.from({ length: n }, (_, i) => f(i)), type)
  const big = (i) => BigInt(i) * 1000003n * (i % 2 ? -1n : 1n)
  const cols = {
    i8: col(new A.Int8(), i => i % 13 === 0 ? null : (i % 256) - 128),
    i16: col(new A.Int16(), i => (i * 37 % 65536) - 32768),
    i32: col(new A.Int32(), i => i * 104729 - 150000000),
    i64: col(new A.Int64(), i => i === 1 ? -9223372036854775808n : big(i)),
    u8: col(new A.Uint8(), i => i % 256),
    u16: col(new A.Uint16(), i => i * 21 % 65536),
    u32: col(new A.Uint32(), i => i === 2 ? 4294967295 : i * 1431655),
    u64: col(new A.Uint64(), i => i === 3 ? 18446744073709551615n : BigInt(i) * 6148914691236517n),
    f32: col(new A.Float32(), i => i % 17 === 0 ? null : i * 1.1 - 333.3),
    f64: col(new A.Float64(), i => i === 5 ? NaN : (i - 1500) / 7),
    b: col(new A.Bool(), i => i % 11 === 0 ? null : i % 3 === 0),
    s: col(new A.Utf8(), i => i % 9 === 0 ? null : `prefix-shared-${Math.floor(i / 10)}-${i % 10}`),
    bin: col(new A.Binary(), i => Uint8Array.from([i & 255, (i >> 8) & 255, 0, 255])),
    fx: col(new A.FixedSizeBinary(3), i => Uint8Array.from([i & 255, 7, (i * 3) & 255])),
    dt: col(new A.DateDay(), i => new Date(Date.UTC(1970, 0, 1) + (i - 1500) * 86400000 * 37)),
    t32: col(new A.TimeMillisecond(), i => (i * 28793) % 86400000),
    t64: col(new A.TimeMicrosecond(), i => BigInt((i * 28793117) % 86400000000)),
    tns: col(new A.TimeNanosecond(), i => BigInt(i) * 28793117123n % 86400000000000n),
    ts_s: col(new A.TimestampSecond(), i => (i - 1500) * 3600 * 24 * 11 * 1000),
    ts_ms: col(new A.TimestampMillisecond(), i => (i - 1500) * 86400123 * 13),
    ts_us: col(new A.TimestampMicrosecond('UTC'), i => (i - 1500) * 86400123 * 13),
    ts_ns: col(new A.TimestampNanosecond(), i => (i - 1500) * 86400123 * 13),
    l: col(new A.List(new A.Field('item', new A.Int32(), true)), i => i % 5 === 0 ? null : i % 5 === 1 ? [] : [i, null, -i]),
    st: col(new A.Struct([new A.Field('x', new A.Int32(), true), new A.Field('y', new A.Utf8(), true)]), i => i % 4 === 0 ? null : { x: i, y: i % 2 ? null : `y${i}` }),
  }
  const table = new A.Table(cols)
  const ipc = A.tableToIPC(table, 'stream')
  const encs = [
    ['plain', (b) => b.setDictionaryEnabled(false).setEncoding(pw.Encoding.PLAIN)],
    ['delta', (b) => {
      b = b.setDictionaryEnabled(false)
      for (const c of ['i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'dt', 't32', 't64', 'tns', 'ts_s', 'ts_ms', 'ts_us', 'ts_ns']) b = b.setColumnEncoding(c, pw.Encoding.DELTA_BINARY_PACKED)
      b = b.setColumnEncoding('l.list.item', pw.Encoding.DELTA_BINARY_PACKED)
      b = b.setColumnEncoding('s', pw.Encoding.DELTA_BYTE_ARRAY).setColumnEncoding('bin', pw.Encoding.DELTA_LENGTH_BYTE_ARRAY)
      b = b.setColumnEncoding('fx', pw.Encoding.DELTA_BYTE_ARRAY).setColumnEncoding('st.y', pw.Encoding.DELTA_LENGTH_BYTE_ARRAY)
      return b.setColumnEncoding('f32', pw.Encoding.BYTE_STREAM_SPLIT).setColumnEncoding('f64', pw.Encoding.BYTE_STREAM_SPLIT)
    }],
    ['bss', (b) => {
      b = b.setDictionaryEnabled(false)
      for (const c of ['i32', 'i64', 'u32', 'f32', 'f64', 'fx']) b = b.setColumnEncoding(c, pw.Encoding.BYTE_STREAM_SPLIT)
      return b.setColumnEncoding('b', pw.Encoding.RLE)
    }],
    ['dict', (b) => b.setDictionaryEnabled(true)],
  ]
  const comps = [['lz4', pw.Compression.LZ4], ['lz4_raw', pw.Compression.LZ4_RAW], ['zstd', pw.Compression.ZSTD],
    ['snappy', pw.Compression.SNAPPY], ['gzip', pw.Compression.GZIP], ['none', pw.Compression.UNCOMPRESSED]]
  const arrowRef = path.join(work, 'arrow_ref.parquet')
  fs.writeFileSync(arrowRef, pw.writeParquet(pw.Table.fromIPCStream(ipc), new pw.WriterPropertiesBuilder().build()))
  let k = 0
  for (const [ename, setEnc] of encs) {
    for (const version of [pw.WriterVersion.V1, pw.WriterVersion.V2]) {
      const [cname, comp] = comps[k++ % comps.length]
      const write = (comp, f) => {
        const b = setEnc(new pw.WriterPropertiesBuilder().setCompression(comp).setWriterVersion(version)
          .setDataPageSizeLimit(2048).setMaxRowGroupSize(1100))
        fs.writeFileSync(f, pw.writeParquet(pw.Table.fromIPCStream(ipc), b.build()))
      }
      const f = path.join(work, `arrow_${ename}_v${version + 1}_${cname}.parquet`)
      write(comp, f)
      await check(f, `arrow-rs ${ename} encodings, pages v${version + 1}, ${cname}, 2 KiB pages`, { ref: arrowRef })
    }
  }
}

process.stdout.write(`pq_check: ${passed} passed, ${failed} failed\n`)
process.exit(failed ? 1 : 0)

#!/usr/bin/env node
// src_make.mjs: writes the source files of tests/integration/files_source.sh with DuckDB,
// an independent writer (nothing binary is committed):
//
//   node src_make.mjs DIR
//
//   DIR/typed/part-1.parquet   every type Parquet holds (lists, a struct, a map, NULLs,
//                              extremes), data pages v1, SNAPPY, row groups of 700
//   DIR/typed/part-2.parquet   the same columns from another writer setting: pages v2,
//                              ZSTD, id as INTEGER and amount as DECIMAL(12,4), which
//                              widen into the first file's BIGINT and DECIMAL(10,2)
//   DIR/people.csv.gz          quotes, embedded newlines, a BOM, \N as NULL, empty strings
//   DIR/events/a.jsonl.zst     nested objects and arrays (zstd by DuckDB), and
//   DIR/events/b.jsonl         more lines, with a key missing on some
//   DIR/big/big.parquet        300,000 rows in row groups of 20,000 (resume tests)
import fs from 'node:fs'
import zlib from 'node:zlib'
import { DuckDBInstance } from '@duckdb/node-api'

const dir = process.argv[2]
if (!dir) { process.stderr.write('usage: src_make.mjs DIR\n'); process.exit(2) }
for (const d of ['typed', 'events', 'big']) fs.mkdirSync(`${dir}/${d}`, { recursive: true })
const con = await (await DuckDBInstance.create(':memory:')).connect()
await con.run("SET TimeZone = 'UTC'")

const typed = (lo, hi, idType, amountType) => `
  SELECT i::${idType} AS id,
    CASE WHEN i % 7 = 0 THEN NULL ELSE i % 2 = 0 END AS flag,
    ((hash(i) % 65536)::INT - 32768)::SMALLINT AS small,
    CASE WHEN i = 1 THEN 9223372036854775807 WHEN i = 2 THEN -9223372036854775808 ELSE (hash(i) >> 2)::BIGINT END AS big,
    (hash(i) % 4294967296)::UINTEGER AS u32,
    CASE WHEN i = 3 THEN 'NaN'::DOUBLE WHEN i = 4 THEN '-inf'::DOUBLE ELSE i / 7.0 END AS f64,
    (i * 0.25)::FLOAT AS f32,
    ((i % 10000) * 0.01)::${amountType} AS amount,
    (i::HUGEINT * 123456789012345 % 99999999999999999999)::DECIMAL(38,0)::DECIMAL(38,6) AS wide,
    CASE WHEN i % 5 = 0 THEN NULL WHEN i % 11 = 0 THEN '' ELSE 'text ' || i || ' "q", ü 😀' END AS t,
    ('\\x' || lpad(to_hex(i % 65536), 4, '0'))::BLOB AS b,
    CASE WHEN i = 5 THEN DATE '0044-03-15 (BC)' ELSE DATE '2000-01-01' + (i % 20000)::INT END AS d,
    make_time((i % 24)::INT, (i % 60)::INT, (i % 60) + 0.25) AS tm,
    TIMESTAMP '2001-02-03 04:05:06.789' + to_seconds(i * 3601) AS ts,
    (TIMESTAMP '2001-02-03 04:05:06' + to_seconds(i * 61))::TIMESTAMPTZ AS tstz,
    md5(i::VARCHAR)::UUID AS u,
    CASE WHEN i % 4 = 0 THEN NULL ELSE json_object('k', i, 'arr', [1, 2]) END::JSON AS j,
    CASE WHEN i % 6 = 0 THEN NULL WHEN i % 6 = 1 THEN [] ELSE [i::INT, NULL, -i::INT] END AS li,
    ['a b', '', 'NULL', 'x"y'] AS ls,
    CASE WHEN i % 3 = 0 THEN NULL ELSE {'n': i, 's': 's' || i, 'l': [1.5, NULL]} END AS st,
    MAP {'k1': i::INT, 'k2': NULL} AS m
  FROM range(${lo}, ${hi}) r(i)`
await con.run(`COPY (${typed(0, 2000, 'BIGINT', 'DECIMAL(10,2)')}) TO '${dir}/typed/part-1.parquet'
  (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 700)`)
await con.run(`COPY (${typed(2000, 3000, 'INTEGER', 'DECIMAL(12,4)')}) TO '${dir}/typed/part-2.parquet'
  (FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION v2)`)

// CSV: written by hand (DuckDB's CSV writer has no \N NULLs and no BOM)
let csv = '\uFEFFid,name,ok,at,score,note\r\n'
for (let i = 0; i < 1500; i++) {
  const name = i % 10 === 0 ? `"name ""${i}""\nsecond line"` : `name ${i}`
  const score = i % 7 === 0 ? '\\N' : (i * 0.5).toFixed(1)
  const note = i % 3 === 0 ? '""' : i % 3 === 1 ? '\\N' : `"a,b ${i}"`
  csv += `${i},${name},${i % 2 === 0},2021-01-01 ${String(i % 24).padStart(2, '0')}:00:00,${score},${note}\r\n`
}
fs.writeFileSync(`${dir}/people.csv.gz`, zlib.gzipSync(Buffer.from(csv)))

// JSONL: the first file by DuckDB (zstd), the second by hand
await con.run(`COPY (SELECT i AS id, {'x': i, 'y': [1, 2, NULL], 'z': {'deep': i % 2 = 0}} AS obj,
                 ['a', i::VARCHAR] AS tags, (i * 1.25)::DECIMAL(10,2) AS amount, 'v' || i AS opt
               FROM range(400) r(i)) TO '${dir}/events/a.jsonl.zst' (FORMAT json, COMPRESSION zstd)`)
let jl = ''
for (let i = 400; i < 800; i++) {
  const o = { id: i, obj: { x: i, y: [1, 2, null], z: { deep: i % 2 === 0 } }, tags: ['a', String(i)], amount: Number((i * 1.25).toFixed(2)) }
  if (i % 5 !== 0) o.opt = `v${i}`
  jl += JSON.stringify(o) + '\n'
}
fs.writeFileSync(`${dir}/events/b.jsonl`, jl)

await con.run(`COPY (SELECT i AS id, i % 97 AS grp, 'payload ' || i AS payload FROM range(300000) r(i))
  TO '${dir}/big/big.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 20000)`)

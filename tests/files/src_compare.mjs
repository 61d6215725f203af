#!/usr/bin/env node
// src_compare.mjs: compares a table that sluice loaded with DuckDB's own reading of the
// source files, value by value.
//
//   node src_compare.mjs --duck "SELECT … ORDER BY id" --rows FILE
//
// FILE holds the target's rows in the same order, one JSON array of texts per line (psql:
// COPY (SELECT json_build_array(c1::text, …) …) TO STDOUT, with TimeZone UTC and
// IntervalStyle iso_8601). DuckDB's values become canonical text (canon.mjs); structs,
// maps and nested lists go through to_json. Cells compare after a light normalisation
// that both sides get: booleans to t/f, plain decimals without trailing fraction zeros,
// JSON parsed. Exit 1 naming the first differences; prints "N rows equal".
import fs from 'node:fs'
import { DuckDBInstance } from '@duckdb/node-api'
import { cell, sameJson } from './canon.mjs'

const args = process.argv.slice(2)
const opt = {}
for (let i = 0; i < args.length; i += 2) opt[args[i].replace(/^--/, '')] = args[i + 1]
if (!opt.duck || !opt.rows) { process.stderr.write('usage: src_compare.mjs --duck SQL --rows FILE\n'); process.exit(2) }

const con = await (await DuckDBInstance.create(':memory:')).connect()
await con.run("SET TimeZone = 'UTC'")
const desc = (await con.runAndReadAll(`DESCRIBE ${opt.duck}`)).getRowObjectsJS()
const nested = (t) => /^(STRUCT|MAP)/.test(t) || /\[\]\[\]$/.test(t) || /^STRUCT.*\[\]$/.test(t)
const cols = desc.map(d => `"${d.column_name.replace(/"/g, '""')}"`)
const exprs = desc.map((d, i) => nested(d.column_type) ? `to_json(${cols[i]})::VARCHAR` : cols[i])
const r = await con.runAndReadAll(`SELECT ${exprs.join(', ')} FROM (${opt.duck})`)
const types = r.columnTypes().map(t => t.toString())
const theirs = r.getRows().map(row => row.map((v, i) => cell(v, types[i])))
const ours = fs.readFileSync(opt.rows, 'utf8').split('\n').filter(l => l !== '').map(l => JSON.parse(l))

function norm(s) {
  if (s === null) return null
  if (/^(t|true)$/i.test(s)) return 't'
  if (/^(f|false)$/i.test(s)) return 'f'
  if (/^-?\d+\.\d+$/.test(s)) s = s.replace(/0+$/, '').replace(/\.$/, '')
  if (s === '-0') return '0'
  return s
}
function same(a, b) {
  a = norm(a)
  b = norm(b)
  if (a === b) return true
  if (a === null || b === null) return false
  try { return sameJson(JSON.parse(a), JSON.parse(b)) } catch { return false }
}

let bad = 0
if (ours.length !== theirs.length) {
  process.stderr.write(`src_compare: ${ours.length} rows loaded, DuckDB reads ${theirs.length}\n`)
  bad++
}
for (let i = 0; i < Math.min(ours.length, theirs.length) && bad < 10; i++) {
  for (let c = 0; c < desc.length && bad < 10; c++) {
    if (!same(ours[i][c], theirs[i][c])) {
      process.stderr.write(`src_compare: row ${i + 1} column ${desc[c].column_name} (${desc[c].column_type}): loaded ${JSON.stringify(ours[i][c])}, DuckDB ${JSON.stringify(theirs[i][c])}\n`)
      bad++
    }
  }
}
if (bad) process.exit(1)
process.stdout.write(`${ours.length} rows equal\n`)

// files_compare.mjs: compares a source table's cell dump (tests/lib/dump.sh: dump_pg or
// dump_my, with its "type" lines) with the cells read back from files (files_cells.mjs),
// value by value. The file holds sluice's canonical text (src/model/types.h,
// docs/type-mapping.md), the dump the engine's own text, so the source's text is first
// brought to the canonical form, by the column's sluice type (from the manifest) and its
// native type (from the dump):
//   money, decimal        "$1,234.56" -> "1234.56" (PostgreSQL money)
//   character(n)          trailing pad spaces dropped
//   integer types         leading zeros dropped (MariaDB ZEROFILL, YEAR "0000")
//   float32 / float64     equal as IEEE values (float32: after rounding to single)
//   date, time, timestamp fraction zeros dropped; MariaDB zero dates are NULL;
//                         timestamptz gets "+00" (MariaDB TIMESTAMP prints UTC bare)
//   interval              PostgreSQL "1 year 2 mons 3 days 04:05:06.5" -> ISO 8601
//                         "P1Y2M3DT4H5M6.5S" (as IntervalStyle iso_8601 prints it)
// Geometry is compared as WKB: the MariaDB source is dumped through a view with
// ST_AsWKB() (files_roundtrip.sh).
//
//   node files_compare.mjs WANT GOT NAME:TYPE,...     exit 1 naming the differing cells
import fs from 'node:fs'

const [wantFile, gotFile, colArg] = process.argv.slice(2)
const types = new Map(colArg.split(',').map((c) => [c.slice(0, c.lastIndexOf(':')), c.slice(c.lastIndexOf(':') + 1)]))
const native = new Map()
const cells = (file, keepTypes) => {
  const m = new Map()
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue
    const [a, b, ...rest] = line.split('\t')
    if (a === 'type') { if (keepTypes) native.set(b, rest.join('\t')); continue }
    m.set(`${a}\t${b}`, rest.join('\t'))
  }
  return m
}
const want = cells(wantFile, true)
const got = cells(gotFile, false)

const dropFraction = (v) => v.replace(/(\d\d:\d\d:\d\d)\.(\d*?)0+(?=$|[+-])/, (_, t, f) => (f ? `${t}.${f}` : t))

function isoInterval(v) {
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = '0', neg = false
  const re = /(-?\d+) (year|mon|day)s?|(-|\+)?(\d+):(\d\d):(\d\d(?:\.\d+)?)/g
  let m
  while ((m = re.exec(v))) {
    if (m[2] === 'year') y = +m[1]
    else if (m[2] === 'mon') mo = +m[1]
    else if (m[2] === 'day') d = +m[1]
    else { neg = m[3] === '-'; h = +m[4]; mi = +m[5]; s = m[6].replace(/\.?0+$/, '').replace(/^0(?=\d)/, '') || '0' }
  }
  const sg = (n) => (neg && n ? -n : n)
  let out = 'P'
  if (y) out += `${y}Y`
  if (mo) out += `${mo}M`
  if (d) out += `${d}D`
  let t = ''
  if (h) t += `${sg(h)}H`
  if (mi) t += `${sg(mi)}M`
  if (s !== '0') t += `${neg ? '-' : ''}${s}S`
  if (t) out += 'T' + t
  return out === 'P' ? 'PT0S' : out
}

function canon(col, v) {
  if (v === '\\N' || v.startsWith('len=')) return v
  const ty = types.get(col), nat = native.get(col) || ''
  if (ty === 'money' || ty === 'decimal') return v.replace(/[$,]/g, '')
  if (/^(character|char)\(/.test(nat) || /^char\(/.test(nat)) return v.replace(/ +$/, '')
  if (/^u?int\d+$/.test(ty)) return v.replace(/^(-?)0+(?=\d)/, '$1')
  if (ty === 'date' || ty === 'timestamp' || ty === 'timestamptz' || ty === 'time') {
    if (/^0000-00-00/.test(v)) return '\\N'
    v = dropFraction(v)
    if (ty === 'timestamptz' && !/[+-]\d\d(:\d\d)?$/.test(v) && /\d$/.test(v)) v += '+00'
    return v
  }
  if (ty === 'interval' && !v.startsWith('P') && !v.startsWith('-P')) return isoInterval(v)
  return v
}

function same(col, a, b) {
  const ty = types.get(col)
  if (a === b) return true
  if ((ty === 'float32' || ty === 'float64') && a !== '\\N' && b !== '\\N') {
    const x = Number(a.replace(/^(-?)Infinity$/, '$1Infinity')), y = Number(b)
    if (Number.isNaN(x) && Number.isNaN(y)) return true
    return ty === 'float32' ? Math.fround(x) === Math.fround(y) : x === y
  }
  return false
}

const bad = []
for (const [k, v] of want) {
  const col = k.split('\t')[1]
  if (!got.has(k)) { bad.push(`missing cell ${k}`); continue }
  const w = canon(col, v), g = dropFraction(got.get(k))
  if (!same(col, w, g)) bad.push(`${k}: source ${JSON.stringify(v)} (canonical ${JSON.stringify(w)}), file ${JSON.stringify(got.get(k))}`)
}
for (const k of got.keys()) if (!want.has(k)) bad.push(`extra cell ${k}`)
if (bad.length) {
  console.error(`${bad.length} cells differ:\n  ` + bad.slice(0, 30).join('\n  '))
  process.exit(1)
}
console.log(`${want.size} cells equal`)

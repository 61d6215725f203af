// files_cells.mjs: turns rows printed by tests/files/read.mjs (one JSON array of canonical
// texts per row, on stdin) into the cell lines of tests/lib/dump.sh ("ID<TAB>COLUMN<TAB>VALUE",
// VALUE \N for NULL, \\ \n \r \t escaped, values over 100 characters as "len=N md5=MD5",
// binary columns as \x<hex> up to 100 bytes, else "len=BYTES md5=MD5"), each line prefixed
// with "ID<TAB>POS<TAB>" so that `sort -t$'\t' -k1,1n -k2,2n | cut -f3-` gives dump order.
//
//   node files_cells.mjs NAME:TYPE,NAME:TYPE,...   (sluice type names, as in the manifest)
//
// Used by tests/integration/files_roundtrip.sh; the id column must be named "id".
import crypto from 'node:crypto'
import readline from 'node:readline'

const cols = process.argv[2].split(',').map((c) => {
  const i = c.lastIndexOf(':')
  return { name: c.slice(0, i), type: c.slice(i + 1) }
})
const idPos = cols.findIndex((c) => c.name === 'id')
if (idPos < 0) throw new Error('no id column')
const md5 = (b) => crypto.createHash('md5').update(b).digest('hex')

function show(v, type) {
  if (v === null) return '\\N'
  if (type === 'bytes' || type === 'geometry') {
    const b = Buffer.from(v.replace(/^\\x/, ''), 'hex')
    return b.length <= 100 ? '\\x' + b.toString('hex') : `len=${b.length} md5=${md5(b)}`
  }
  const chars = [...v].length
  if (chars > 100) return `len=${chars} md5=${md5(Buffer.from(v, 'utf8'))}`
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of rl) {
  if (!line) continue
  const row = JSON.parse(line)
  const id = row[idPos]
  row.forEach((v, i) => {
    process.stdout.write(`${id}\t${i + 1}\t${id}\t${cols[i].name}\t${show(v, cols[i].type)}\n`)
  })
}

// canon.mjs: sluice's canonical text (src/model/types.h) of values read by independent
// readers, shared by read.mjs (files sluice wrote) and pq_check.mjs (files sluice reads).
// The forms are the ones tests/lib/dump.sh prints for PostgreSQL: see read.mjs's header.
export const pad = (n, w = 2) => String(n).padStart(w, '0')

// Digits and exponent of the shortest round-trip form, printed as PostgreSQL does.
export function pgFloat(v, single) {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return 'Infinity'
  if (v === -Infinity) return '-Infinity'
  if (v === 0) return Object.is(v, -0) ? '-0' : '0'
  let s = v.toExponential()
  if (single) {
    for (let p = 1; p <= 9; p++) {
      let t = v.toExponential(p - 1)
      if (Math.fround(Number(t)) !== v) continue
      // toExponential rounds an exact tie up; PostgreSQL (Ryu) rounds it to even.
      const more = v.toExponential(Math.min(100, p + 40)).match(/^-?\d(?:\.(\d+))?e/)[1] || ''
      const rest = more.slice(p - 1)
      const last = t.match(/(\d)e/)[1]
      if (/^50*$/.test(rest) && Number(last) % 2 === 1) t = t.replace(/\de/, `${Number(last) - 1}e`)
      s = t
      break
    }
  }
  const m = s.match(/^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/)
  const sign = m[1], digits = m[2] + (m[3] || ''), e = Number(m[4])
  if (e < -4 || e >= (single ? 6 : 15)) {
    const exp = Math.abs(e)
    return `${sign}${digits[0]}${digits.length > 1 ? '.' + digits.slice(1) : ''}e${e < 0 ? '-' : '+'}${pad(exp)}`
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`
  if (digits.length <= e + 1) return sign + digits + '0'.repeat(e + 1 - digits.length)
  return `${sign}${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`
}

export function decimal(unscaled, scale) {
  let v = BigInt(unscaled)
  const neg = v < 0n
  if (neg) v = -v
  let s = v.toString()
  if (scale > 0) {
    s = s.padStart(scale + 1, '0')
    s = s.slice(0, s.length - scale) + '.' + s.slice(s.length - scale)
  }
  return (neg ? '-' : '') + s
}

export function civil(days) {
  // days since 1970-01-01 -> [y, m, d] (H. Hinnant)
  let z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d]
}

export const dateText = (days) => {
  const [y, m, d] = civil(Number(days))
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`
}

export function timeText(us) {
  us = BigInt(us)
  const frac = us % 1000000n
  let s = Number(us / 1000000n)
  const t = `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
  return frac ? `${t}.${String(frac).padStart(6, '0').replace(/0+$/, '')}` : t
}

export function tsText(us, utc) {
  us = BigInt(us)
  let days = us / 86400000000n
  let rest = us % 86400000000n
  if (rest < 0n) { rest += 86400000000n; days -= 1n }
  return `${dateText(days)} ${timeText(rest)}${utc ? '+00' : ''}`
}

export const hex = (bytes) => '\\x' + Buffer.from(bytes).toString('hex')

// A DuckDB value (from @duckdb/node-api) of a column of DuckDB type `type`.
export function duckCell(v, type) {
  if (v === null || v === undefined) return null
  if (typeof v === 'boolean') return v ? 't' : 'f'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') {
    if (type === 'FLOAT') return pgFloat(v, true)
    if (type === 'DOUBLE') return pgFloat(v, false)
    return String(v)
  }
  if (typeof v === 'string') return v
  const c = v.constructor.name
  if (c === 'DuckDBDecimalValue') return decimal(v.value, v.scale)
  if (c === 'DuckDBDateValue') return dateText(v.days)
  if (c === 'DuckDBTimeValue') return timeText(v.micros)
  if (c === 'DuckDBTimestampValue') return tsText(v.micros, false)
  if (c === 'DuckDBTimestampTZValue') return tsText(v.micros, true)
  if (c === 'DuckDBBlobValue') return hex(v.bytes)
  if (c === 'DuckDBUUIDValue') return v.toString().toLowerCase()
  return v.toString()
}

// --- canonical text of what sluice reads (pq_check.mjs, src_compare.mjs) ----------------
// Beyond read.mjs's needs: years before 1 as "… BC", DuckDB's infinity sentinels,
// nanosecond and millisecond timestamps, intervals in ISO 8601 as PostgreSQL's
// IntervalStyle iso_8601 prints them, lists as PostgreSQL array literals.

export function dateBC(days) {
  const [y, m, d] = civil(Number(days))
  return y <= 0 ? `${pad(1 - y, 4)}-${pad(m)}-${pad(d)} BC` : `${pad(y, 4)}-${pad(m)}-${pad(d)}`
}

export function tsBC(us, utc) {
  us = BigInt(us)
  let days = us / 86400000000n
  let rest = us % 86400000000n
  if (rest < 0n) { rest += 86400000000n; days -= 1n }
  const d = dateBC(days)
  const bc = d.endsWith(' BC')
  return `${bc ? d.slice(0, -3) : d} ${timeText(rest)}${utc ? '+00' : ''}${bc ? ' BC' : ''}`
}

export function interval(v) {
  const months = v.months, days = v.days, ms = Number(v.micros / 1000n)
  if (!months && !days && !ms) return 'PT0S'
  let s = 'P'
  if (Math.floor(months / 12)) s += `${Math.floor(months / 12)}Y`
  if (months % 12) s += `${months % 12}M`
  if (days) s += `${days}D`
  if (ms) {
    const h = Math.floor(ms / 3600000), mi = Math.floor(ms / 60000) % 60, sec = Math.floor(ms / 1000) % 60, f = ms % 1000
    s += 'T'
    if (h) s += `${h}H`
    if (mi) s += `${mi}M`
    if (sec || f) s += f ? `${sec}.${String(f).padStart(3, '0').replace(/0+$/, '')}S` : `${sec}S`
  }
  return s
}

const floorDiv = (a, b) => { const q = a / b; return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q }

// One DuckDB value in canonical text; type is DuckDB's type name of the column (or element).
export function cell(v, type) {
  if (v === null || v === undefined) return null
  const c = v.constructor.name
  if (c === 'DuckDBDateValue') {
    if (v.days === 2147483647) return 'infinity'
    if (v.days === -2147483647) return '-infinity'
    return dateBC(v.days)
  }
  if (c === 'DuckDBTimestampValue' || c === 'DuckDBTimestampTZValue') {
    if (v.micros === 9223372036854775807n) return 'infinity'
    if (v.micros === -9223372036854775807n) return '-infinity'
    return tsBC(v.micros, c === 'DuckDBTimestampTZValue')
  }
  if (c === 'DuckDBTimestampNanosecondsValue') return tsBC(floorDiv(v.nanos, 1000n), false)
  if (c === 'DuckDBTimestampMillisecondsValue') return tsBC(v.millis * 1000n, false)
  if (c === 'DuckDBTimestampSecondsValue') return tsBC(v.seconds * 1000000n, false)
  if (c === 'DuckDBIntervalValue') return interval(v)
  if (c === 'DuckDBTimeTZValue') return v.toString()
  if (c === 'DuckDBTimeNSValue') return timeText(floorDiv(v.nanos, 1000n))
  if (c === 'DuckDBListValue') return arrayLiteral(v.items, type.replace(/\[\]$/, ''))
  return duckCell(v, type)
}

// A list as PostgreSQL prints an array: elements quoted when empty, NULL or special.
export function arrayLiteral(items, elemType) {
  return '{' + items.map(it => {
    if (it === null || it === undefined) return 'NULL'
    const t = cell(it, elemType)
    const q = t === '' || /^null$/i.test(t) || /[{}",\\\s]/.test(t)
    return q ? '"' + t.replace(/[\\"]/g, (m) => '\\' + m) + '"' : t
  }).join(',') + '}'
}

// Deep comparison of parsed JSON; numbers by value (the text of a decimal may differ).
export function sameJson(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-12 * Math.abs(a)
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
  if (a && typeof a === 'object') {
    if (!b || typeof b !== 'object' || Array.isArray(b)) return false
    const ka = Object.keys(a), kb = Object.keys(b)
    return ka.length === kb.length && ka.every(k => sameJson(a[k], b[k]))
  }
  return a === b
}


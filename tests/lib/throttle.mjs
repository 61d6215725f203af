// throttle.mjs: a TCP proxy that caps the bytes per second between sluice and a database,
// so that a kill test does not depend on the machine's speed. A load through it takes at
// least (bytes moved) / RATE seconds however fast the machine is, so a kill that follows an
// observed event (the first rows on the target, a stored file) lands while the load is
// still partial. Nothing of the product is changed: sluice talks to the real server, only
// slower, as over a slow network.
//
// Both directions of every connection share one budget: each chunk is forwarded at the
// earliest moment that keeps the total at RATE (no burst beyond one read chunk), and the
// socket it came from is paused until then (TCP back-pressure does the rest).
//
// usage: node throttle.mjs --upstream-port P --rate BYTES_PER_SEC --port-file FILE
//        [--upstream-host 127.0.0.1]
// It listens on a free loopback port and writes it to FILE when ready. SIGTERM stops it,
// printing the bytes it moved.
import net from 'node:net'
import fs from 'node:fs'

function arg(name, def) {
  const i = process.argv.indexOf('--' + name)
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def
}
const upstreamHost = arg('upstream-host', '127.0.0.1')
const upstreamPort = Number(arg('upstream-port'))
const rate = Number(arg('rate'))
const portFile = arg('port-file')
if (!upstreamPort || !(rate > 0) || !portFile) {
  console.error('usage: throttle.mjs --upstream-port P --rate BYTES_PER_SEC --port-file FILE')
  process.exit(2)
}

let next = 0 // ms: when the budget allows the next byte
let moved = 0

// Forwards FROM's data to TO within the shared budget.
function pipe(from, to) {
  from.on('data', (chunk) => {
    const now = Date.now()
    next = Math.max(next, now) + (chunk.length * 1000) / rate
    moved += chunk.length
    from.pause()
    setTimeout(() => {
      if (to.destroyed) return
      if (to.write(chunk)) from.resume()
      else to.once('drain', () => from.resume())
    }, Math.max(0, next - now))
  })
  // 'end' comes only after the last chunk was taken (the socket was paused until then), but
  // that chunk may still wait for its turn: end TO after it.
  from.on('end', () => setTimeout(() => to.end(), Math.max(0, next - Date.now())))
  from.on('error', () => to.destroy())
  from.on('close', () => setTimeout(() => to.destroy(), Math.max(0, next - Date.now()) + 50))
}

const server = net.createServer((client) => {
  const up = net.connect(upstreamPort, upstreamHost)
  client.setNoDelay(true)
  up.setNoDelay(true)
  pipe(client, up)
  pipe(up, client)
})
server.listen(0, '127.0.0.1', () => {
  const tmp = portFile + '.tmp'
  fs.writeFileSync(tmp, String(server.address().port))
  fs.renameSync(tmp, portFile)
})
process.on('SIGTERM', () => {
  console.log(`throttle.mjs: moved ${moved} bytes at ${rate} bytes/s`)
  process.exit(0)
})

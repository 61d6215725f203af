#!/usr/bin/env node
// proxy.js: a SigV4-verifying front for s3rver (which checks no signatures), for sluice's
// S3 tests. Every request's Authorization header is recomputed with the npm `aws4` signer
// from the request as received (method, path, query, the signed headers) and compared; a
// bad one gets S3's 403 XML error (SignatureDoesNotMatch, InvalidAccessKeyId,
// AccessDenied) and never reaches s3rver. Bodies are streamed to s3rver while their
// SHA-256 is computed; when it differs from the signed x-amz-content-sha256 the upstream
// request is destroyed before it ends (so s3rver stores nothing) and the client gets 400
// XAmzContentSHA256Mismatch. Memory stays flat for any object size.
//
// Test hooks (unsigned, on the proxy only):
//   GET  /__proxy/stats                  {"requests":…, "rejected":…, "ops":{"UploadPart":…}}
//   POST /__proxy/fail?op=OP&count=N&status=S
//        the next N requests of operation OP (PutObject, UploadPart, CompleteMultipartUpload,
//        ListObjectsV2, GetObject, …) get status S (503: S3's SlowDown) without reaching
//        s3rver; status 0 resets the connection instead; delay=MS holds them MS milliseconds,
//        then forwards them (a slow upload, to kill a client in the middle of one).
//   POST /__proxy/reset                  clears counters and pending faults
//
// usage: node proxy.js --port P --upstream-port U [--access-key K --secret-key S]
//        [--port-file FILE]   (port 0 picks a free one; FILE receives the port when ready)
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');
const aws4 = require('aws4');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const PORT = Number(arg('port', '0'));
const UPSTREAM = Number(arg('upstream-port'));
const ACCESS = arg('access-key', 'S3RVER');
const SECRET = arg('secret-key', 'S3RVER');
const PORT_FILE = arg('port-file');
const MAX_SKEW_MS = 15 * 60 * 1000;
if (!UPSTREAM) {
  console.error('proxy.js: --upstream-port is required');
  process.exit(2);
}

const stats = { requests: 0, rejected: 0, ops: {} };
let faults = [];

function operation(req) {
  const u = new URL(req.url, 'http://x');
  const q = u.searchParams;
  const keyed = u.pathname.split('/').filter(Boolean).length > 1;
  switch (req.method) {
    case 'PUT': return q.has('partNumber') ? 'UploadPart' : keyed ? 'PutObject' : 'CreateBucket';
    case 'POST': return q.has('uploads') ? 'CreateMultipartUpload' : q.has('uploadId') ? 'CompleteMultipartUpload' : 'Post';
    case 'DELETE': return q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'HEAD': return keyed ? 'HeadObject' : 'HeadBucket';
    case 'GET': return q.get('list-type') === '2' ? 'ListObjectsV2' : keyed ? 'GetObject' : 'ListObjects';
    default: return req.method;
  }
}

function xmlEscape(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]);
}

// Answers with an S3-style XML error. The request body is drained first so that the
// client is not cut off mid-upload (it reads the answer as soon as it stops sending).
function reject(req, res, status, code, message) {
  stats.rejected++;
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(req.url)}</Resource>` +
    '<RequestId>sluice-test-proxy</RequestId></Error>';
  const send = () => {
    if (res.headersSent) return res.destroy();
    res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  if (req.complete || req.readableEnded) send();
  else { req.on('end', send); req.on('error', () => res.destroy()); req.resume(); }
}

const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

// Returns null when the signature is right, else [status, code, message].
function verify(req) {
  const m = AUTH_RE.exec(req.headers.authorization || '');
  if (!m) return [403, 'AccessDenied', 'missing or malformed AWS4-HMAC-SHA256 Authorization header'];
  const [, akid, day, region, service, signedList, given] = m;
  if (akid !== ACCESS) return [403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'];
  const signed = signedList.split(';');
  for (const h of ['host', 'x-amz-date', 'x-amz-content-sha256'])
    if (!signed.includes(h)) return [403, 'AccessDenied', `header ${h} must be signed`];
  const headers = {};
  const include = {};
  for (const h of signed) {
    if (req.headers[h] === undefined) return [403, 'AccessDenied', `signed header ${h} is missing`];
    headers[h] = req.headers[h];
    include[h] = true;
  }
  const amzDate = req.headers['x-amz-date'];
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== day)
    return [403, 'AccessDenied', 'x-amz-date is malformed or disagrees with the credential scope'];
  const t = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  if (!(Math.abs(Date.now() - t) <= MAX_SKEW_MS))
    return [403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.'];
  const signer = new aws4.RequestSigner({
    method: req.method, host: req.headers.host, path: req.url, headers, service, region,
    extraHeadersToInclude: include,
  }, { accessKeyId: ACCESS, secretAccessKey: SECRET });
  // Before signature(): otherwise aws4 takes the date of the key and the string to sign
  // from the clock instead of x-amz-date, and fails whenever a second ticks in between.
  signer.prepareRequest();
  const expected = signer.signature();
  if (signer.signedHeaders() !== signedList)
    return [403, 'SignatureDoesNotMatch', 'signed header list differs'];
  if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(given))) {
    if (process.env.PROXY_DEBUG) // test credentials only: safe to print
      console.error(`proxy.js: signature mismatch for ${req.method} ${req.url} expected ${expected} given ${given}\n${signer.canonicalString()}\nheaders ${JSON.stringify(req.headers)}`);
    return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'];
  }
  return null;
}

function control(req, res, u) {
  const q = u.searchParams;
  if (u.pathname === '/__proxy/stats') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify(stats));
  }
  if (u.pathname === '/__proxy/fail') {
    faults.push({ op: q.get('op'), count: Number(q.get('count') || 1), status: Number(q.get('status') || 503),
      delay: Number(q.get('delay') || 0) });
  } else if (u.pathname === '/__proxy/reset') {
    faults = [];
    stats.requests = stats.rejected = 0;
    stats.ops = {};
  } else {
    res.writeHead(404);
    return res.end();
  }
  res.writeHead(204);
  res.end();
}

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname.startsWith('/__proxy/')) return control(req, res, u);
  stats.requests++;
  const bad = verify(req);
  if (bad) return reject(req, res, ...bad);
  const op = operation(req);
  stats.ops[op] = (stats.ops[op] || 0) + 1;
  const f = faults.find((x) => x.op === op && x.count > 0);
  if (f) {
    f.count--;
    if (f.delay) return setTimeout(() => forward(req, res), f.delay);
    if (f.status === 0) { req.resume(); return req.socket.destroy(); }
    return reject(req, res, f.status, f.status === 503 ? 'SlowDown' : 'InternalError', 'fault injected by the test proxy');
  }
  forward(req, res);
});

// Streams a verified request to s3rver and its answer back, checking the body's hash.
function forward(req, res) {
  const want = req.headers['x-amz-content-sha256'];
  const check = want !== 'UNSIGNED-PAYLOAD';
  if (check && !/^[0-9a-f]{64}$/.test(want))
    return reject(req, res, 400, 'InvalidArgument', 'x-amz-content-sha256 must be a hex SHA-256 or UNSIGNED-PAYLOAD');
  const headers = { ...req.headers };
  const up = http.request({ host: '127.0.0.1', port: UPSTREAM, method: req.method, path: req.url, headers }, (ures) => {
    res.writeHead(ures.statusCode, ures.headers);
    ures.pipe(res);
  });
  up.on('error', () => { if (!res.headersSent) reject(req, res, 502, 'InternalError', 'upstream s3rver failed'); else res.destroy(); });
  const hash = crypto.createHash('sha256');
  req.on('data', (chunk) => {
    hash.update(chunk);
    if (!up.write(chunk)) { req.pause(); up.once('drain', () => req.resume()); }
  });
  req.on('end', () => {
    const got = hash.digest('hex');
    if (check && got !== want) {
      up.destroy();
      stats.rejected++;
      const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>XAmzContentSHA256Mismatch</Code>' +
        '<Message>The provided x-amz-content-sha256 header does not match what was computed.</Message></Error>';
      res.writeHead(400, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
      return res.end(body);
    }
    up.end();
  });
  req.on('error', () => up.destroy());
}

server.keepAliveTimeout = 30000;
server.listen(PORT, '127.0.0.1', () => {
  const port = server.address().port;
  if (PORT_FILE) {
    fs.writeFileSync(PORT_FILE + '.tmp', String(port));
    fs.renameSync(PORT_FILE + '.tmp', PORT_FILE);
  }
  console.log(`proxy.js: listening on 127.0.0.1:${port}, upstream s3rver on 127.0.0.1:${UPSTREAM}`);
});
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => server.close(() => process.exit(0)) && setTimeout(() => process.exit(0), 2000).unref());

#!/usr/bin/env node
// nats_jwt.mjs: makes a NATS operator, account and user (NKeys and JWTs, as `nsc` would)
// for tests/integration/sec_nats_auth.sh, with Node's own Ed25519:
//
//   node nats_jwt.mjs DIR
//
// writes DIR/user.creds (the user's JWT and NKey seed) and prints the nats-server config
// lines of operator mode: the operator JWT, the system account, a memory resolver preloaded
// with both accounts (JetStream enabled for the user's).
import crypto from 'node:crypto';
import fs from 'node:fs';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function b32(buf) {
  let bits = 0, v = 0, out = '';
  for (const b of buf) {
    v = (v << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(v >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits) out += B32[(v << (5 - bits)) & 31];
  return out;
}
function crc16(buf) {
  let crc = 0;
  for (const b of buf) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}
function withCrc(bytes) {
  const c = crc16(bytes);
  return Buffer.concat([bytes, Buffer.from([c & 0xff, c >> 8])]);
}
const PREFIX = { seed: 18 << 3, operator: 14 << 3, account: 0, user: 20 << 3 };

function keypair(kind) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const raw = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const p = PREFIX[kind];
  return {
    privateKey,
    pub: b32(withCrc(Buffer.concat([Buffer.from([p]), pub]))),
    seed: b32(withCrc(Buffer.concat([Buffer.from([PREFIX.seed | (p >> 5), (p & 31) << 3]), raw]))),
  };
}

const b64u = (x) => Buffer.from(x).toString('base64url');
function jwt(issuer, sub, name, nats) {
  const head = b64u(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const claims = { jti: b32(crypto.randomBytes(32)).slice(0, 52), iat: Math.floor(Date.now() / 1000),
    iss: issuer.pub, name, sub, nats: { ...nats, version: 2 } };
  const body = b64u(JSON.stringify(claims));
  const sig = crypto.sign(null, Buffer.from(head + '.' + body), issuer.privateKey);
  return head + '.' + body + '.' + b64u(sig);
}

const dir = process.argv[2];
const op = keypair('operator'), acct = keypair('account'), sys = keypair('account'), user = keypair('user');
const opJwt = jwt(op, op.pub, 'sluice-test-operator', { type: 'operator' });
const limits = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1,
  leaf: -1, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };
const acctJwt = jwt(op, acct.pub, 'sluice-test-account', { type: 'account', limits,
  default_permissions: { pub: {}, sub: {} } });
const sysJwt = jwt(op, sys.pub, 'SYS', { type: 'account', limits: { ...limits, mem_storage: 0,
  disk_storage: 0, streams: 0, consumer: 0 }, default_permissions: { pub: {}, sub: {} } });
const userJwt = jwt(acct, user.pub, 'sluice-test-user', { type: 'user', pub: {}, sub: {}, subs: -1,
  data: -1, payload: -1 });
fs.writeFileSync(`${dir}/user.creds`, `-----BEGIN NATS USER JWT-----
${userJwt}
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.
NKEYs are sensitive and should be treated as secrets.

-----BEGIN USER NKEY SEED-----
${user.seed}
------END USER NKEY SEED------

*************************************************************
`, { mode: 0o600 });
process.stdout.write(`operator: "${opJwt}"\nsystem_account: ${sys.pub}\nresolver: MEMORY\n` +
  `resolver_preload: {\n  ${acct.pub}: "${acctJwt}"\n  ${sys.pub}: "${sysJwt}"\n}\n`);

#!/usr/bin/env node
// fetch.js: lists or downloads the objects under a prefix of the test S3 server, straight
// from s3rver (SLUICE_TEST_S3_DIRECT, which needs no signature), so tests read what landed
// without going through sluice's own S3 code.
//
//   node fetch.js --endpoint URL --bucket B [--prefix P] --list
//        prints "KEY<TAB>SIZE<TAB>MD5-ETAG" per object, keys relative to P, sorted
//   node fetch.js --endpoint URL --bucket B [--prefix P] --dest DIR
//        downloads every object to DIR/<key relative to P> and prints how many
//   node fetch.js --endpoint URL --bucket B --key K --sha256
//        prints the SHA-256 of one object (streamed), or exits 1 when it is absent
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { Readable } = require('stream');
const { pipeline } = require('stream/promises');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const flag = (name) => process.argv.includes('--' + name);
const endpoint = arg('endpoint');
const bucket = arg('bucket');
let prefix = arg('prefix', '');
if (prefix && !prefix.endsWith('/')) prefix += '/';

function unxml(s) {
  return s.replace(/&(amp|lt|gt|quot|apos|#x?[0-9a-fA-F]+);/g, (m, e) =>
    ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e] ??
    String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)));
}

// fetch with 3 tries: Node's keep-alive pool can hit a socket s3rver just closed (ECONNRESET).
async function get(url) {
  for (let i = 1; ; i++) {
    try {
      return await fetch(url);
    } catch (e) {
      if (i >= 3) throw new Error(`${url}: ${e.cause?.code || e.message}`);
      await new Promise((r) => setTimeout(r, 200 * i));
    }
  }
}

const objUrl = (key) => `${endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

async function list() {
  const out = [];
  let token = null;
  for (;;) {
    const q = new URLSearchParams({ 'list-type': '2', prefix });
    if (token) q.set('continuation-token', token);
    const r = await get(`${endpoint}/${bucket}?${q}`);
    const xml = await r.text();
    if (r.status !== 200) throw new Error(`list ${bucket}/${prefix}: ${r.status} ${xml}`);
    for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
      const key = unxml(/<Key>([\s\S]*?)<\/Key>/.exec(m[1])[1]);
      const size = Number(/<Size>(\d+)<\/Size>/.exec(m[1])[1]);
      const etag = unxml((/<ETag>([\s\S]*?)<\/ETag>/.exec(m[1]) || [, ''])[1]).replace(/"/g, '');
      out.push({ key, rel: key.slice(prefix.length), size, etag });
    }
    if (!/<IsTruncated>true<\/IsTruncated>/.test(xml)) break;
    token = unxml(/<NextContinuationToken>([\s\S]*?)<\/NextContinuationToken>/.exec(xml)[1]);
  }
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

async function main() {
  if (!endpoint || !bucket) throw new Error('--endpoint and --bucket are required');
  if (flag('sha256')) {
    const r = await get(objUrl(arg('key')));
    if (r.status !== 200) process.exit(1);
    const h = crypto.createHash('sha256');
    for await (const chunk of Readable.fromWeb(r.body)) h.update(chunk);
    console.log(h.digest('hex'));
    return;
  }
  const objs = await list();
  if (flag('list')) {
    for (const o of objs) console.log(`${o.rel}\t${o.size}\t${o.etag}`);
    return;
  }
  const dest = arg('dest');
  if (!dest) throw new Error('--list, --dest DIR or --sha256 is required');
  for (const o of objs) {
    const file = path.join(dest, o.rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const r = await get(objUrl(o.key));
    if (r.status !== 200) throw new Error(`get ${o.key}: ${r.status}`);
    await pipeline(Readable.fromWeb(r.body), fs.createWriteStream(file));
  }
  console.log(objs.length);
}

main().catch((e) => {
  console.error(`fetch.js: ${e.message}`);
  process.exit(2);
});

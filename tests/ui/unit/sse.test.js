// Unit tests of web/js/lib/sse.js: the event-stream parser on any chunking, the backoff,
// and the reconnect loop driven with an in-process fetch (Response + ReadableStream).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, backoffDelay, openEventStream } from '../../../web/js/lib/sse.js';

const STREAM =
  ': ping\n\n' +
  'event: state\ndata: {"state":"running","error":null}\n\n' +
  'event: stats\r\ndata: {"totals":\r\ndata: {"rows_read":5}}\r\n\r\n' +
  'id: 7\rdata:plain text\r\r' +
  'event: log\ndata\n\n' +
  'event: nodata\n\n' +
  'retry: 2500\nunknown: x\ndata: last\n\n' +
  'data: unterminated';

const EXPECTED = [
  { event: 'state', data: '{"state":"running","error":null}', id: '' },
  { event: 'stats', data: '{"totals":\n{"rows_read":5}}', id: '' },
  { event: 'message', data: 'plain text', id: '7' },
  { event: 'log', data: '', id: '7' },
  { event: 'message', data: 'last', id: '7' },
];

test('parser: whole input', () => {
  const p = new SseParser();
  assert.deepEqual(p.feed(STREAM), EXPECTED);
  assert.equal(p.retry, 2500);
});

test('parser: every split point gives the same events (CRLF split across chunks too)', () => {
  for (let i = 0; i <= STREAM.length; i++) {
    const p = new SseParser();
    const got = [...p.feed(STREAM.slice(0, i)), ...p.feed(STREAM.slice(i))];
    assert.deepEqual(got, EXPECTED, `split at ${i}`);
  }
});

test('parser: one character at a time', () => {
  const p = new SseParser();
  const got = [];
  for (const c of STREAM) got.push(...p.feed(c));
  assert.deepEqual(got, EXPECTED);
  // the unterminated event is held, not dispatched, and completes with its blank line
  assert.deepEqual(p.feed('\n\n'), [{ event: 'message', data: 'unterminated', id: '7' }]);
});

test('backoff doubles up to the cap, jitter only shortens', () => {
  const fixed = { base: 500, max: 15000, jitter: 0 };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, fixed)), [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  assert.equal(backoffDelay(2, { base: 500, jitter: 0.5, random: () => 1 }), 1000);
  assert.equal(backoffDelay(2, { base: 500, jitter: 0.5, random: () => 0 }), 2000);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(3, { base: 100, max: 1000 });
    assert.ok(d >= 560 && d <= 800, String(d));
  }
});

// A Response whose body yields chunks, then ends (or errors).
function respond(chunks, { status = 200, fail = false } = {}) {
  const enc = new TextEncoder();
  // One chunk per pull, so that an error comes after the chunks (error() would drop a queue).
  const left = [...chunks];
  const body = new ReadableStream({
    pull(c) {
      if (left.length) c.enqueue(enc.encode(left.shift()));
      else if (fail) c.error(new Error('connection reset'));
      else c.close();
    },
  });
  return new Response(status === 200 ? body : null, { status });
}

function waitFor(cond, ms = 2000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => (cond() ? resolve() : Date.now() - t0 > ms ? reject(new Error('timeout')) : setTimeout(tick, 5));
    tick();
  });
}

test('reconnects after the stream ends, after errors and HTTP failures, with growing delays reset by data', async () => {
  const calls = [];
  const answers = [
    () => respond(['event: stats\ndata: {"n":1}\n\n']), // data, then the stream ends
    () => Promise.reject(new TypeError('network down')), // connection refused
    () => respond([], { status: 503 }),
    () => respond(['id: 42\nevent: stats\ndata: {"n":2}\n\nevent: log\ndata: {"message":"x"'], { fail: true }),
    () => respond(['event: state\ndata: {"state":"paused"}\n\n']),
  ];
  const events = [];
  const statuses = [];
  const sleeps = [];
  const es = openEventStream({
    url: '/api/v1/streams/s1/events',
    key: 'k3y',
    onEvent: (e) => events.push(e),
    onStatus: (s, info) => statuses.push(info ? `${s}:${info.attempt}` : s),
    fetchImpl: (url, init) => {
      calls.push({ url, headers: init.headers });
      const a = answers.shift();
      // then hang until closed, as fetch does: an abort rejects it
      return a ? a() : new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new Error('aborted'))));
    },
    sleep: (ms) => (sleeps.push(ms), Promise.resolve()),
    backoff: { base: 100, max: 1000, jitter: 0 },
  });
  await waitFor(() => calls.length === 6);
  es.close();
  await waitFor(() => statuses.at(-1) === 'closed');

  assert.equal(calls[0].url, '/api/v1/streams/s1/events');
  assert.equal(calls[0].headers.Authorization, 'Bearer k3y');
  assert.equal(calls[0].headers['Last-Event-ID'], undefined);
  // the id seen on the 4th connection is sent on the 5th
  assert.equal(calls[4].headers['Last-Event-ID'], '42');
  assert.deepEqual(
    events.map((e) => [e.event, e.data]),
    [
      ['stats', { n: 1 }],
      ['stats', { n: 2 }],
      ['state', { state: 'paused' }],
    ]
  );
  // attempt counts failures in a row; a connection that delivered data (even one that then
  // broke) resets it
  assert.deepEqual(sleeps, [100, 200, 400, 100, 100]);
  assert.deepEqual(statuses, ['open', 'retry:0', 'retry:1', 'retry:2', 'open', 'retry:0', 'open', 'retry:0', 'closed']);
});

test('a 401 ends the loop without retrying', async () => {
  let n = 0;
  const statuses = [];
  openEventStream({
    url: '/e',
    key: 'wrong',
    onEvent: () => assert.fail('no events expected'),
    onStatus: (s) => statuses.push(s),
    fetchImpl: () => (n++, Promise.resolve(new Response(null, { status: 401 }))),
    sleep: () => Promise.resolve(),
  });
  await waitFor(() => statuses.length === 1);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(n, 1);
  assert.deepEqual(statuses, ['unauthorized']);
});

// sse.js: server-sent events read with fetch(), because the browser's EventSource cannot send
// the Authorization header the API needs. Three parts, all free of the DOM:
//   - SseParser: text/event-stream bytes (as decoded text, in any chunking) → events;
//   - backoffDelay: the wait before reconnect attempt n (exponential, capped, with jitter);
//   - openEventStream: the fetch → read → parse → reconnect loop, with fetch and sleep
//     injectable so tests (tests/ui/unit/sse.test.js) drive it without a network.
// The parser follows the WHATWG "event stream interpretation" rules: lines end in CRLF,
// LF or CR; ':' starts a comment; "field: value" loses one leading space; data lines join
// with "\n"; a blank line dispatches; an event without data is dropped.

export class SseParser {
  constructor() {
    this.buf = '';
    this.pendingCR = false; // the last chunk ended in CR: a following LF belongs to it
    this.reset();
    this.lastEventId = '';
    this.retry = null;
  }

  reset() {
    this.type = '';
    this.data = [];
    this.hasData = false;
  }

  // Feeds a chunk of text; returns the events it completes, each {event, data, id}.
  // The parser keeps at most one partial line between calls.
  feed(chunk) {
    const out = [];
    let text = chunk;
    if (this.pendingCR && text.startsWith('\n')) text = text.slice(1);
    this.pendingCR = false;
    this.buf += text;
    let start = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (c !== '\n' && c !== '\r') continue;
      this.line(this.buf.slice(start, i), out);
      if (c === '\r') {
        if (i + 1 < this.buf.length) {
          if (this.buf[i + 1] === '\n') i++;
        } else {
          this.pendingCR = true;
        }
      }
      start = i + 1;
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  line(l, out) {
    if (l === '') {
      if (this.hasData) {
        out.push({ event: this.type || 'message', data: this.data.join('\n'), id: this.lastEventId });
      }
      this.reset();
      return;
    }
    if (l[0] === ':') return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    switch (field) {
      case 'event':
        this.type = value;
        break;
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored, as the standard says
    }
  }
}

// The wait in milliseconds before reconnect attempt n (0 for the first retry): base · 2^n,
// at most max, then scaled by a factor in [1 - jitter, 1] (random() is injectable).
export function backoffDelay(n, { base = 500, max = 15000, jitter = 0.3, random = Math.random } = {}) {
  const raw = Math.min(max, base * Math.pow(2, Math.max(0, n)));
  return Math.round(raw * (1 - jitter * random()));
}

const defaultSleep = (ms, signal) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    if (signal) signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

// Opens url with the bearer key and calls onEvent({event, data, id}) for every event, the
// data parsed as JSON when it is JSON. Reconnects with backoff after the stream ends or a
// network error; a reconnect sends Last-Event-ID when the server gave ids. onStatus(s, info)
// reports "open", "retry" ({delayMs, attempt, error}) and "closed". A 401 ends the loop
// with onStatus("unauthorized"); another HTTP error is retried. Returns {close()}.
// Runs on the page's event loop; nothing shared.
export function openEventStream({
  url,
  key,
  onEvent,
  onStatus = () => {},
  fetchImpl = (...a) => fetch(...a),
  sleep = defaultSleep,
  backoff = {},
}) {
  const ctl = new AbortController();
  let closed = false;
  let lastId = '';
  let gotData = false; // the current connection delivered an event

  async function once() {
    const headers = { Authorization: `Bearer ${key}`, Accept: 'text/event-stream' };
    if (lastId) headers['Last-Event-ID'] = lastId;
    const res = await fetchImpl(url, { headers, signal: ctl.signal, cache: 'no-store' });
    if (res.status === 401) return 'unauthorized';
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    onStatus('open');
    const parser = new SseParser();
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const ev of parser.feed(dec.decode(value, { stream: true }))) {
        gotData = true;
        if (ev.id) lastId = ev.id;
        let data = ev.data;
        try {
          data = JSON.parse(ev.data);
        } catch {
          /* not JSON: passed on as text */
        }
        onEvent({ event: ev.event, data, id: ev.id });
      }
    }
    return 'ended';
  }

  (async () => {
    let attempt = 0;
    while (!closed) {
      let error = null;
      gotData = false;
      try {
        if ((await once()) === 'unauthorized') {
          onStatus('unauthorized');
          return;
        }
      } catch (e) {
        error = e;
      }
      // A connection that delivered events worked: the next wait starts from the base again.
      if (gotData) attempt = 0;
      if (closed) break;
      const delayMs = backoffDelay(attempt, backoff);
      onStatus('retry', { delayMs, attempt, error });
      attempt++;
      await sleep(delayMs, ctl.signal);
    }
    onStatus('closed');
  })();

  return {
    close() {
      closed = true;
      ctl.abort();
    },
  };
}

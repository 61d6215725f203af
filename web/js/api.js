// api.js: the one way the UI talks to sluice: the REST API of docs/api.md with the key from
// sessionStorage (kept for this browser session only, never in localStorage or a cookie).
// A failed call throws ApiError carrying the API's {code, message, detail, hint}; a 401
// outside sign-in sends the user back to sign-in.
//
// The key's role (GET /whoami at sign-in: "read" or "admin") is kept beside it. With a
// read-only key the UI hides what needs admin: every element marked data-admin, and every
// stream action button (data-action); style.css hides them under body[data-role=read]. The
// server refuses those calls anyway (403).

const KEY = 'sluice.apiKey';
const ROLE = 'sluice.role';

export function getKey() {
  return sessionStorage.getItem(KEY);
}

export function setKey(k) {
  sessionStorage.setItem(KEY, k);
}

export function clearKey() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(ROLE);
}

// The signed-in key's role: "read", "admin", or null while unknown.
export function getRole() {
  return sessionStorage.getItem(ROLE);
}

export function setRole(r) {
  sessionStorage.setItem(ROLE, r);
}

// Whether the signed-in key may change things (create, edit, delete, start, test...).
export function canWrite() {
  return getRole() === 'admin';
}

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || (status === 0 ? 'network' : 'http_' + status);
    this.detail = e.detail || null;
    this.hint = e.hint || null;
  }
}

let onUnauthorized = () => {};

// Sets what happens when a call (other than sign-in's) gets 401.
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

// Reports a 401 met outside api() (the event stream) to the same handler.
export function unauthorized(err) {
  onUnauthorized(err);
}

// Calls method path (under /api/v1) with body as JSON; returns the parsed answer (null for
// 204). opts.key overrides the stored key (sign-in), opts.quiet401 skips the handler.
export async function api(method, path, body, opts = {}) {
  const key = opts.key || getKey() || '';
  const headers = { Authorization: `Bearer ${key}`, Accept: 'application/json' };
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch('/api/v1' + path, init);
  } catch (e) {
    throw new ApiError(0, {
      error: { code: 'network', message: 'could not reach the sluice server', detail: String(e.message || e),
               hint: 'Check that `sluice server` is running.' },
    });
  }
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !opts.quiet401) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const enc = encodeURIComponent;

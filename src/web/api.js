// api.js: the dashboard's only way to the server.  Same-origin fetches with
// the session cookie; writes echo the session's CSRF token; a 401 anywhere
// sends the page back to the login view.  No mock data: a failed call
// rejects with an ApiError the caller shows as an error state.

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
    this.field = field || null;
  }
}

const state = {
  csrf: '',
  onUnauthorized: () => {},
};

export function setCsrf(token) {
  state.csrf = token || '';
}

export function onUnauthorized(fn) {
  state.onUnauthorized = fn;
}

async function parseError(resp) {
  let body = null;
  try {
    body = await resp.json();
  } catch (e) {
    /* not JSON */
  }
  const err = body && body.error;
  const what = resp.status === 404 && err && err.message === 'no such path'
    ? 'this endpoint is not available on this server (404)'
    : (err && err.message) || `${resp.status} ${resp.statusText}`;
  return new ApiError(resp.status, err && err.code, what, err && err.field);
}

// request('GET', '/api/v1/...', {query, body, raw}) -> parsed JSON (or the
// Response itself with raw: true).
export async function request(method, path, opts = {}) {
  let url = path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let resp;
  try {
    resp = await fetch(url, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'network', 'the server cannot be reached');
  }
  if (resp.status === 401 && !opts.noAuthRedirect) {
    state.onUnauthorized();
    throw new ApiError(401, 'unauthorized', 'your session has ended: sign in again');
  }
  if (!resp.ok) throw await parseError(resp);
  if (opts.raw) return resp;
  if (resp.status === 204) return null;
  const text = await resp.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, query, opts = {}) => request('GET', path, { ...opts, query });
export const put = (path, body, query) => request('PUT', path, { body, query, raw: true });
export const post = (path, body, query) => request('POST', path, { body, query });

export const enc = encodeURIComponent;

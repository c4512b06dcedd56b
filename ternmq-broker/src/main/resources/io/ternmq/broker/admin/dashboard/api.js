// The admin REST API from the page: the login's cookie goes along by itself; writes add its CSRF token.

const KEY = 'ternmq.login';

/** The login this tab made ({user, readOnly, csrf}), or null. The cookie itself is HttpOnly: the page never sees it. */
export function login() {
  try { return JSON.parse(sessionStorage.getItem(KEY)); } catch { return null; }
}

export function forget() {
  sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function logIn(user, password) {
  const r = await fetch('/api/v1/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password }),
  });
  const json = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, json.message || `HTTP ${r.status}`);
  sessionStorage.setItem(KEY, JSON.stringify(json));
  return json;
}

/**
 * Ends the login on the broker (POST /api/v1/logout with the CSRF token: the cookie is worthless from then on, and
 * the answer clears it), then forgets it here. A login that had ended already (401) is forgotten all the same.
 */
export async function logOut() {
  const csrf = login()?.csrf ?? '';
  try {
    await fetch('/api/v1/logout', { method: 'POST', headers: { 'X-TernMQ-CSRF': csrf } });
  } finally {
    forget();
  }
}

/** Calls /api/v1/{path}; resolves to the JSON answer, rejects with ApiError. A 401 means the login ended. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-TernMQ-CSRF'] = login()?.csrf ?? '';
  const r = await fetch(`/api/v1/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: the text is the message */ }
  if (r.status === 401) {
    forget();
    window.dispatchEvent(new Event('ternmq-logged-out'));
  }
  if (!r.ok) throw new ApiError(r.status, json?.message ?? text ?? `HTTP ${r.status}`);
  return json;
}

/** A path segment: a client id or topic percent-encoded as UTF-8, '/' included. */
export function seg(s) {
  return encodeURIComponent(s);
}

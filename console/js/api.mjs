// Calls to the Malpro HTTP API from the console: same origin, the session cookie, and the
// X-CSRF-Token header on every write (docs/http-api.md, "Console session").

let csrfToken = '';
let onUnauthenticated = () => {};

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
    this.field = field || '';
  }
}

export function setCsrfToken(token) { csrfToken = token || ''; }
export function setUnauthenticatedHandler(handler) { onUnauthenticated = handler; }

async function errorFrom(response) {
  let code = '', message = '', field = '';
  try {
    const body = await response.json();
    if (body && body.error) ({code, message, field} = body.error);
  } catch { /* not JSON */ }
  return new ApiError(response.status, code, message, field);
}

// Sends a request; answers the Response when ok, throws ApiError otherwise. A 401 on anything
// but the session routes means the session ended: the handler shows the sign-in page.
export async function request(path, {method = 'GET', body, headers = {}, signal} = {}) {
  const init = {method, headers: {...headers}, credentials: 'same-origin', signal};
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) {
    const isJson = !(body instanceof Blob || body instanceof ArrayBuffer || typeof body === 'string');
    init.body = isJson ? JSON.stringify(body) : body;
    if (isJson) init.headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !path.startsWith('/v1/session')) onUnauthenticated();
    throw error;
  }
  return response;
}

export async function getJson(path, options) {
  const response = await request(path, options);
  return response.json();
}

export async function sendJson(method, path, body) {
  const response = await request(path, {method, body});
  return response.status === 204 ? null : response.json();
}

export const session = {
  async current() {
    const response = await fetch('/v1/session', {credentials: 'same-origin'});
    if (response.status === 401) return null;
    if (!response.ok) throw await errorFrom(response);
    return response.json();
  },
  async signIn(token) {
    const response = await fetch('/v1/session', {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify({token}),
    });
    if (!response.ok) throw await errorFrom(response);
    return response.json();
  },
  async signOut() {
    await fetch('/v1/session', {
      method: 'DELETE', credentials: 'same-origin', headers: {'X-CSRF-Token': csrfToken},
    });
    csrfToken = '';
  },
};

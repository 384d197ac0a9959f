// JSON API client: the CSRF token (from sign-in or /api/session) goes in a
// header on every change; a 401 sends the page back to the sign-in form.
let csrf = '';
let onUnauthorized = () => {};

export function setCsrf(token) {
  csrf = token || '';
}

export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

export async function api(method, path, body) {
  const headers = {};
  let payload;
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  if (res.ok) {
    const type = res.headers.get('content-type') || '';
    return type.includes('application/json') ? res.json() : res.blob();
  }
  let err = { code: 'HTTP_' + res.status, message: res.statusText };
  try {
    err = (await res.json()).error || err;
  } catch {
    /* not JSON */
  }
  if (res.status === 401 && path !== '/api/login') onUnauthorized();
  throw new ApiError(res.status, err.code, err.message, err.fields);
}

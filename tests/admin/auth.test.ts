/**
 * Sign-in, sessions, CSRF and roles, through inject: every API route refuses
 * a call without a session (401), a change without the CSRF token (403), and
 * an admin route to a guard (403) — and changes nothing when it refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../src/store/accounts.js';
import { addAccount, call, login, makeHarness, PASSWORDS, sessionCookie, type Harness, type Session } from './harness.js';

/** Every /api route with the least role it needs. */
const ROUTES: Array<{ method: 'GET' | 'POST'; url: string; admin?: boolean }> = [
  { method: 'POST', url: '/api/logout' },
  { method: 'GET', url: '/api/session' },
  { method: 'POST', url: '/api/password' },
  { method: 'GET', url: '/api/status' },
  { method: 'POST', url: '/api/open' },
  { method: 'POST', url: '/api/mode', admin: true },
  { method: 'GET', url: '/api/alerts' },
  { method: 'POST', url: '/api/alerts/ack' },
  { method: 'GET', url: '/api/live/recent' },
  { method: 'GET', url: '/api/live' },
  { method: 'POST', url: '/api/visitors' },
  { method: 'GET', url: '/api/visitors/pending', admin: true },
  { method: 'POST', url: '/api/visitors/approve', admin: true },
  { method: 'GET', url: '/api/visitors/00000000-0000-0000-0000-000000000000' },
  { method: 'GET', url: '/api/visitors/00000000-0000-0000-0000-000000000000/pass.svg' },
  { method: 'GET', url: '/api/photos/p-1' },
  { method: 'GET', url: '/api/inside' },
  { method: 'POST', url: '/api/journal/search' },
  { method: 'POST', url: '/api/journal/export' },
  { method: 'GET', url: '/api/accounts', admin: true },
  { method: 'POST', url: '/api/accounts', admin: true },
  { method: 'POST', url: '/api/accounts/update', admin: true },
  { method: 'POST', url: '/api/accounts/delete', admin: true },
  { method: 'POST', url: '/api/desk/read' },
];

describe('admin sign-in and access checks', () => {
  let h: Harness;
  let admin: Session;
  let guard: Session;

  beforeAll(async () => {
    h = await makeHarness();
    await addAccount(h, 'chief', 'admin', PASSWORDS.admin);
    await addAccount(h, 'guard1', 'guard', PASSWORDS.guard);
    admin = await login(h, 'chief', PASSWORDS.admin);
    guard = await login(h, 'guard1', PASSWORDS.guard);
  });
  afterAll(async () => h.close());

  it('the route table covers every /api route the server has', () => {
    // Rebuild full paths from the indented route tree ("│   └── /recent (GET, HEAD)").
    const stack: string[] = [];
    const paths: string[] = [];
    for (const line of h.app.printRoutes({ commonPrefix: false }).split('\n')) {
      const m = /^([│ ]*)[├└]── (\S+) \(([A-Z, ]+)\)/.exec(line);
      if (!m) continue;
      const depth = m[1]!.length / 4;
      stack.length = depth;
      stack.push(m[2]!);
      const full = stack.join('');
      if (full.startsWith('/api/')) {
        for (const method of m[3]!.split(', ')) if (method !== 'HEAD') paths.push(`${method} ${full}`);
      }
    }
    const known = new Set(ROUTES.map((r) => `${r.method} ${r.url.replace(/00000000-[0-9-]+|p-1/, ':personId')}`));
    known.add('POST /api/login');
    known.add('GET /api/i18n');
    expect(paths.length).toBeGreaterThan(20);
    for (const p of paths) expect(known, p).toContain(p);
  });

  it('signs in: HttpOnly SameSite=Strict cookie, CSRF token, admin_login event without the password', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/login', payload: { name: 'guard1', password: PASSWORDS.guard } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ account: 'guard1', role: 'guard' });
    expect(res.json().csrf).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/gc_session=[A-Za-z0-9_-]{40,}/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    const ev = h.lastOf('admin_login')!;
    expect(ev).toMatchObject({ account: 'guard1', ok: true });
    expect(JSON.stringify(h.events())).not.toContain(PASSWORDS.guard);
    expect(h.logs()).not.toContain(PASSWORDS.guard);
  });

  it('stores passwords as scrypt N=2^15 r=8 p=1, never in clear', () => {
    const acc = new AccountStore(h.store.db).get('chief')!;
    expect(acc.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    const dump = JSON.stringify(h.store.db.prepare('SELECT * FROM admin_accounts').all());
    expect(dump).not.toContain(PASSWORDS.admin);
  });

  it('a wrong password is 401 BAD_CREDENTIALS and an admin_login failure event', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/login', payload: { name: 'chief', password: 'wrong-password' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: 'BAD_CREDENTIALS', message: expect.any(String) } });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(h.lastOf('admin_login')).toMatchObject({ account: 'chief', ok: false, reason: 'BAD_PASSWORD' });
    expect(JSON.stringify(h.events())).not.toContain('wrong-password');
  });

  it('an unknown name fails the same way; the typed name is not journaled', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/login', payload: { name: 'my-secret-typed-here', password: 'x' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('BAD_CREDENTIALS');
    const ev = h.lastOf('admin_login')!;
    expect(ev).toMatchObject({ ok: false, reason: 'UNKNOWN_ACCOUNT' });
    expect(ev.account).toBeUndefined();
    expect(JSON.stringify(h.events())).not.toContain('my-secret-typed-here');
  });

  it('bad sign-in bodies are 400 BAD_INPUT; a form post (cross-site) is refused as 415', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/login', payload: { name: 'chief' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'BAD_INPUT', fields: ['password'] });
    const form = await h.app.inject({
      method: 'POST',
      url: '/api/login',
      payload: 'name=chief&password=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.statusCode).toBe(415);
    expect(form.json().error.code).toBe('FST_ERR_CTP_INVALID_MEDIA_TYPE');
  });

  it('every API route answers 401 JSON without a session', async () => {
    for (const r of ROUTES) {
      const res = await h.app.inject({ method: r.method, url: r.url, payload: r.method === 'POST' ? {} : undefined });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
      expect(res.json(), r.url).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    }
    const forged = await h.app.inject({ method: 'GET', url: '/api/status', headers: { cookie: 'gc_session=forged-token' } });
    expect(forged.statusCode).toBe(401);
  });

  it('every change without the right CSRF token is 403 BAD_CSRF and changes nothing', async () => {
    const before = h.store.journal.lastSeq();
    for (const r of ROUTES.filter((x) => x.method === 'POST')) {
      for (const token of [undefined, 'wrong', guard.csrf.slice(0, -1)]) {
        const headers: Record<string, string> = { cookie: admin.cookie };
        if (token !== undefined) headers['x-csrf-token'] = token;
        const res = await h.app.inject({ method: 'POST', url: r.url, payload: { direction: 'in', reason: 'x' }, headers });
        expect(res.statusCode, `${r.url} token=${token}`).toBe(403);
        expect(res.json().error.code).toBe('BAD_CSRF');
      }
    }
    // Another session's token does not fit this session.
    const cross = await h.app.inject({
      method: 'POST',
      url: '/api/open',
      payload: { direction: 'in', reason: 'x' },
      headers: { cookie: admin.cookie, 'x-csrf-token': guard.csrf },
    });
    expect(cross.statusCode).toBe(403);
    expect(h.store.journal.lastSeq()).toBe(before);
  });

  it('admin routes answer 403 FORBIDDEN to a guard', async () => {
    for (const r of ROUTES.filter((x) => x.admin)) {
      const res = await call(h, guard, r.method, r.url, r.method === 'POST' ? {} : undefined);
      expect(res.statusCode, r.url).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
  });

  it('GET /api/session returns the account, role and CSRF token', async () => {
    const res = await call(h, guard, 'GET', '/api/session');
    expect(res.json()).toEqual({ account: 'guard1', role: 'guard', csrf: guard.csrf });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('security headers: CSP without inline script, nosniff, no framing', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.body).toContain('<script type="module" src="/js/main.js">');
  });

  it('sign-out ends the session', async () => {
    const s = await login(h, 'guard1', PASSWORDS.guard);
    const out = await call(h, s, 'POST', '/api/logout');
    expect(out.statusCode).toBe(200);
    expect(String(out.headers['set-cookie'])).toMatch(/gc_session=;/);
    expect((await call(h, s, 'GET', '/api/session')).statusCode).toBe(401);
  });

  it('changing one\'s password: wrong current 403, weak 400, success ends the other sessions', async () => {
    await addAccount(h, 'guard2', 'guard', 'first-password-2');
    const a = await login(h, 'guard2', 'first-password-2');
    const b = await login(h, 'guard2', 'first-password-2');
    const wrong = await call(h, a, 'POST', '/api/password', { current: 'nope', password: 'second-password-2' });
    expect(wrong.statusCode).toBe(403);
    const weak = await call(h, a, 'POST', '/api/password', { current: 'first-password-2', password: 'short' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.code).toBe('WEAK_PASSWORD');
    const ok = await call(h, a, 'POST', '/api/password', { current: 'first-password-2', password: 'second-password-2' });
    expect(ok.statusCode).toBe(200);
    const next: Session = { cookie: sessionCookie(ok), csrf: ok.json().csrf };
    expect((await call(h, b, 'GET', '/api/session')).statusCode).toBe(401);
    expect((await call(h, next, 'GET', '/api/session')).statusCode).toBe(200);
    await expect(login(h, 'guard2', 'first-password-2')).rejects.toThrow(/401/);
    await login(h, 'guard2', 'second-password-2');
  });
});

describe('sign-in throttling', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness({ limits: { perIp: 8, maxFailures: 3, lockMs: 60_000 } });
    await addAccount(h, 'chief', 'admin', PASSWORDS.admin);
  });
  afterAll(async () => h.close());

  it('locks an account after repeated failures, even for the right password; journals the lockout', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await h.app.inject({ method: 'POST', url: '/api/login', payload: { name: 'chief', password: `bad-${i}` } });
      expect(r.statusCode).toBe(401);
    }
    expect(h.lastOf('admin_login')).toMatchObject({ account: 'chief', ok: false, reason: 'BAD_PASSWORD+LOCKED_OUT' });
    const locked = await h.app.inject({ method: 'POST', url: '/api/login', payload: { name: 'chief', password: PASSWORDS.admin } });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.code).toBe('LOCKED_OUT');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(h.lastOf('admin_login')).toMatchObject({ account: 'chief', ok: false, reason: 'LOCKED_OUT' });
    // After the lock time the right password works again.
    h.offset.ms += 61_000;
    const ok = await h.app.inject({ method: 'POST', url: '/api/login', payload: { name: 'chief', password: PASSWORDS.admin } });
    expect(ok.statusCode).toBe(200);
  });

  it('limits attempts per client address across account names', async () => {
    let limited = 0;
    for (let i = 0; i < 8; i++) {
      const r = await h.app.inject({ method: 'POST', url: '/api/login', payload: { name: `nobody${i}`, password: 'x' } });
      if (r.statusCode === 429) {
        limited++;
        expect(r.json().error.code).toBe('RATE_LIMITED');
      }
    }
    expect(limited).toBeGreaterThan(0);
  });
});

describe('session lifetime', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness({ sessionTtlMs: 60_000 });
    await addAccount(h, 'guard1', 'guard', PASSWORDS.guard);
  });
  afterAll(async () => h.close());

  it('slides with use and ends after the lifetime without use', async () => {
    const s = await login(h, 'guard1', PASSWORDS.guard);
    h.offset.ms += 40_000;
    expect((await call(h, s, 'GET', '/api/session')).statusCode).toBe(200);
    h.offset.ms += 40_000; // 80 s after sign-in, 40 s after the last use
    expect((await call(h, s, 'GET', '/api/session')).statusCode).toBe(200);
    h.offset.ms += 61_000;
    expect((await call(h, s, 'GET', '/api/session')).statusCode).toBe(401);
  });
});

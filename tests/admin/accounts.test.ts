/** Account management by an admin: create, change, disable, reset, delete — and the last admin stays. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount, call, login, makeHarness, PASSWORDS, type Harness, type Session } from './harness.js';

describe('account management', () => {
  let h: Harness;
  let admin: Session;

  beforeAll(async () => {
    h = await makeHarness();
    await addAccount(h, 'chief', 'admin', PASSWORDS.admin);
    admin = await login(h, 'chief', PASSWORDS.admin);
  });
  afterAll(async () => h.close());

  it('creates a guard who can then sign in; refuses bad names, weak passwords, duplicates', async () => {
    const ok = await call(h, admin, 'POST', '/api/accounts', { name: 'night.guard', role: 'guard', password: 'night-shift-42' });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toEqual({ name: 'night.guard', role: 'guard' });
    const s = await login(h, 'night.guard', 'night-shift-42');
    expect((await call(h, s, 'GET', '/api/session')).json().role).toBe('guard');

    const cases: Array<[object, number, string]> = [
      [{ name: 'night.guard', role: 'guard', password: 'another-pass-1' }, 409, 'ACCOUNT_EXISTS'],
      [{ name: 'x', role: 'guard', password: 'long-enough-1' }, 400, 'BAD_INPUT'],
      [{ name: '<script>', role: 'guard', password: 'long-enough-1' }, 400, 'BAD_INPUT'],
      [{ name: 'ok-name', role: 'root', password: 'long-enough-1' }, 400, 'BAD_INPUT'],
      [{ name: 'ok-name', role: 'guard', password: 'short' }, 400, 'WEAK_PASSWORD'],
    ];
    for (const [body, status, code] of cases) {
      const res = await call(h, admin, 'POST', '/api/accounts', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      expect(res.json().error.code).toBe(code);
    }
    const list = (await call(h, admin, 'GET', '/api/accounts')).json().accounts;
    expect(list.map((a: { name: string }) => a.name)).toEqual(['chief', 'night.guard']);
    expect(JSON.stringify(list)).not.toContain('scrypt');
  });

  it('disabling ends the sessions and blocks sign-in; enabling restores it', async () => {
    const s = await login(h, 'night.guard', 'night-shift-42');
    const off = await call(h, admin, 'POST', '/api/accounts/update', { name: 'night.guard', disabled: true });
    expect(off.json()).toEqual({ name: 'night.guard', role: 'guard', disabled: true });
    expect((await call(h, s, 'GET', '/api/session')).statusCode).toBe(401);
    const refused = await h.app.inject({ method: 'POST', url: '/api/login', payload: { name: 'night.guard', password: 'night-shift-42' } });
    expect(refused.statusCode).toBe(401);
    expect(h.lastOf('admin_login')).toMatchObject({ account: 'night.guard', ok: false, reason: 'DISABLED' });
    await call(h, admin, 'POST', '/api/accounts/update', { name: 'night.guard', disabled: false });
    await login(h, 'night.guard', 'night-shift-42');
  });

  it('a password reset ends the sessions; the new password works', async () => {
    const s = await login(h, 'night.guard', 'night-shift-42');
    const weak = await call(h, admin, 'POST', '/api/accounts/update', { name: 'night.guard', password: 'short' });
    expect(weak.json().error.code).toBe('WEAK_PASSWORD');
    const res = await call(h, admin, 'POST', '/api/accounts/update', { name: 'night.guard', password: 'day-shift-4242' });
    expect(res.statusCode).toBe(200);
    expect((await call(h, s, 'GET', '/api/session')).statusCode).toBe(401);
    await login(h, 'night.guard', 'day-shift-4242');
    expect(h.logs()).not.toContain('day-shift-4242');
  });

  it('every account change is an admin_action event naming operator and account; log lines name its seq, not the account', async () => {
    const before = h.events().length;
    const created = await call(h, admin, 'POST', '/api/accounts', { name: 'li.ming', role: 'guard', password: 'li-ming-pass-77' });
    expect(created.statusCode).toBe(201);
    expect(h.lastOf('admin_action')).toMatchObject({ action: 'account_created', operator: 'chief', account: 'li.ming', role: 'guard' });
    await call(h, admin, 'POST', '/api/accounts/update', { name: 'li.ming', disabled: true, password: 'li-ming-pass-78' });
    const changed = h.lastOf('admin_action')!;
    expect(changed).toMatchObject({ action: 'account_changed', operator: 'chief', account: 'li.ming', disabled: true, passwordReset: true });
    expect(changed).not.toHaveProperty('role');
    const guard = await login(h, 'night.guard', 'day-shift-4242');
    expect((await call(h, guard, 'POST', '/api/password', { current: 'day-shift-4242', password: 'day-shift-4343' })).statusCode).toBe(200);
    expect(h.lastOf('admin_action')).toMatchObject({ action: 'password_changed', operator: 'night.guard', account: 'night.guard' });
    expect((await call(h, admin, 'POST', '/api/accounts/delete', { name: 'li.ming' })).statusCode).toBe(200);
    const removed = h.lastOf('admin_action')!;
    expect(removed).toMatchObject({ action: 'account_removed', operator: 'chief', account: 'li.ming' });

    // Refused changes journal nothing.
    const n = h.events().length;
    await call(h, admin, 'POST', '/api/accounts/delete', { name: 'ghost' });
    await call(h, admin, 'POST', '/api/accounts', { name: 'night.guard', role: 'guard', password: 'another-pass-1' });
    expect(h.events().length).toBe(n);
    expect(h.events().slice(before).filter((e) => e.type === 'admin_action')).toHaveLength(4);

    const lines = h.logs().split('\n').filter((l) => /admin account (created|changed|removed)|changed own password|admin signed in|sign-in refused/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const l of lines) {
      expect(l).not.toContain('li.ming');
      expect(l).not.toContain('night.guard');
      expect(JSON.parse(l).seq).toEqual(expect.any(Number));
    }
    expect(lines.find((l) => l.includes('admin account removed'))).toContain(`"seq":${removed.seq}`);
  });

  it('promotes and demotes; the last enabled admin can be neither demoted, disabled nor deleted', async () => {
    for (const body of [{ name: 'chief', role: 'guard' }, { name: 'chief', disabled: true }]) {
      const res = await call(h, admin, 'POST', '/api/accounts/update', body);
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('LAST_ADMIN');
    }
    const del = await call(h, admin, 'POST', '/api/accounts/delete', { name: 'chief' });
    expect(del.json().error.code).toBe('LAST_ADMIN');

    await call(h, admin, 'POST', '/api/accounts/update', { name: 'night.guard', role: 'admin' });
    const demote = await call(h, admin, 'POST', '/api/accounts/update', { name: 'chief', role: 'guard' });
    expect(demote.json()).toMatchObject({ role: 'guard' });
    // chief's session now has the guard role: admin routes are closed to it.
    expect((await call(h, admin, 'GET', '/api/accounts')).statusCode).toBe(403);
  });

  it('nothing to change, unknown account: JSON errors', async () => {
    const other = await login(h, 'night.guard', 'day-shift-4343');
    expect((await call(h, other, 'POST', '/api/accounts/update', { name: 'chief' })).json().error.code).toBe('BAD_INPUT');
    expect((await call(h, other, 'POST', '/api/accounts/update', { name: 'ghost', role: 'guard' })).statusCode).toBe(404);
    expect((await call(h, other, 'POST', '/api/accounts/delete', { name: 'ghost' })).statusCode).toBe(404);
    const del = await call(h, other, 'POST', '/api/accounts/delete', { name: 'chief' });
    expect(del.statusCode).toBe(200);
    expect((await call(h, admin, 'GET', '/api/session')).statusCode).toBe(401);
  });
});

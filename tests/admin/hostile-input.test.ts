/**
 * Hostile input on every body the API takes: control characters in every
 * text field, unknown fields, LIKE wildcards and NUL in the journal search,
 * visitor windows outside the limits, requests from another site. Each is
 * a 400 (or 403) with a code, and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../src/store/accounts.js';
import { addAccount, call, login, makeHarness, PASSWORDS, type Harness, type Session } from './harness.js';
import { multipart, phoneJpeg, visitorFields } from './multipart.js';

const DAY = 24 * 3600_000;
/** NUL, ESC, DEL, a C1 control, line separator, right-to-left override, first-strong isolate, BOM. */
const BAD_CHARS = ['\u0000', '\u001b', '\u007f', '\u0085', '\u2028', '\u202e', '\u2068', '\ufeff'];

describe('hostile input', () => {
  let h: Harness;
  let admin: Session;
  let photo: Buffer;

  const state = () => ({
    journal: h.events().length,
    accounts: new AccountStore(h.store.db).list(),
    visitors: h.store.db.prepare('SELECT COUNT(*) AS n FROM visitors').get(),
    alerts: h.store.settings.get('admin.alerts.open'),
    mode: h.gate.status().mode,
  });

  beforeAll(async () => {
    h = await makeHarness({ visitLimits: { maxAdvanceDays: 10, maxVisitDays: 5 } });
    await addAccount(h, 'chief', 'admin', PASSWORDS.admin);
    await addAccount(h, 'guard1', 'guard', PASSWORDS.guard);
    admin = await login(h, 'chief', PASSWORDS.admin);
    photo = await phoneJpeg();
  });
  afterAll(async () => h.close());

  /** Every JSON body the API takes, valid, with its text fields named. */
  const bodies: Array<{ url: string; body: Record<string, unknown>; text: string[] }> = [
    { url: '/api/open', body: { direction: 'in', reason: 'delivery' }, text: ['reason'] },
    { url: '/api/mode', body: { mode: 'lockdown', reason: 'drill', confirm: true }, text: ['reason'] },
    { url: '/api/accounts', body: { name: 'newguard', role: 'guard', password: 'new-guard-pass-1' }, text: ['name', 'password'] },
    { url: '/api/accounts/update', body: { name: 'guard1', password: 'other-guard-pass-2' }, text: ['name', 'password'] },
    { url: '/api/journal/search', body: { person: 'Wang' }, text: ['person', 'from'] },
    { url: '/api/journal/export', body: { person: 'Wang' }, text: ['person', 'to'] },
    { url: '/api/password', body: { current: PASSWORDS.admin, password: 'admin-password-2x' }, text: ['current', 'password'] },
    { url: '/api/login', body: { name: 'chief', password: PASSWORDS.admin }, text: ['name', 'password'] },
  ];

  it('a control character in any text field of any JSON body: 400 naming the field, nothing changed', async () => {
    const before = state();
    for (const { url, body, text } of bodies) {
      for (const field of text) {
        for (const bad of [...BAD_CHARS, '\ud800']) {
          const value = field === 'from' || field === 'to' ? `2026-01-01T00:00${bad}` : `${String(body[field] ?? 'x')}${bad}x`;
          const res = await call(h, admin, 'POST', url, { ...body, [field]: value });
          expect(res.statusCode, `${url} ${field} U+${bad.charCodeAt(0).toString(16)}: ${res.body}`).toBe(400);
          expect(res.json().error).toMatchObject({ code: 'BAD_INPUT', fields: [field] });
        }
      }
    }
    expect(state()).toEqual(before);
  });

  it('unknown fields are refused in every JSON body and in the registration form', async () => {
    const before = state();
    for (const { url, body } of [...bodies, { url: '/api/alerts/ack', body: { all: true } }, { url: '/api/logout', body: {} }]) {
      const res = await call(h, admin, 'POST', url, { ...body, role2: 'admin' });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'BAD_INPUT', fields: ['role2'] });
    }
    const form = multipart(visitorFields({ isAdmin: 'true' }), { data: photo });
    const res = await call(h, admin, 'POST', '/api/visitors', form.payload, form.headers);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.fields).toEqual(['isAdmin']);
    expect(state()).toEqual(before);
  });

  it('query parameters on an API route are unknown fields: 400 once signed in (401 before)', async () => {
    for (const url of ['/api/status?admin=1', '/api/accounts?role=admin', `/api/inside?x`, '/api/session?%00=1']) {
      const res = await call(h, admin, 'GET', url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'BAD_INPUT', fields: ['(query)'] });
      expect((await h.app.inject({ method: 'GET', url })).statusCode, url).toBe(401);
    }
    expect((await call(h, admin, 'GET', '/api/status?')).statusCode).toBe(200);
  });

  it('registration: control characters in every text field, a field sent twice: 400', async () => {
    const before = state();
    for (const field of ['name', 'idNumber', 'phone', 'organisation', 'purpose', 'host', 'hostId', 'items', 'vehiclePlate', 'specialNeeds', 'validFrom']) {
      for (const bad of BAD_CHARS) {
        const base = visitorFields({ items: 'boxes', vehiclePlate: 'A12345', specialNeeds: 'none', hostId: 'p-host' });
        const form = multipart({ ...base, [field]: `${base[field]}${bad}` }, { data: photo });
        const res = await call(h, admin, 'POST', '/api/visitors', form.payload, form.headers);
        expect(res.statusCode, `${field} U+${bad.charCodeAt(0).toString(16)}: ${res.body}`).toBe(400);
        expect(res.json().error.fields).toContain(field);
      }
    }
    const fields = visitorFields();
    const twice = multipart(fields, { data: photo });
    const dup = Buffer.from(twice.payload.toString('latin1').replace(/(--[^\r]+\r\ncontent-disposition: form-data; name="name")/, '$1\r\n\r\nMallory\r\n$1'), 'latin1');
    const res = await call(h, admin, 'POST', '/api/visitors', dup, twice.headers);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('DUPLICATE_FIELD');
    expect(state()).toEqual(before);
  });

  it('journal search: NUL refused, % and _ match only themselves', async () => {
    const before = state();
    const nul = await call(h, admin, 'POST', '/api/journal/search', { person: '\u0000' });
    expect(nul.statusCode).toBe(400);
    expect(nul.json().error).toMatchObject({ code: 'BAD_INPUT', fields: ['person'] });
    // Someone is in the journal under a name: wildcards must not find them.
    const form = multipart(visitorFields({ name: 'Wang Fang' }), { data: photo });
    expect((await call(h, admin, 'POST', '/api/visitors', form.payload, form.headers)).statusCode).toBe(201);
    const hit = await call(h, admin, 'POST', '/api/journal/search', { person: 'Wang' });
    expect(hit.json().total).toBeGreaterThan(0);
    for (const pattern of ['%', '_', '%%', '____', 'W%g', '\\', '\\%']) {
      const res = await call(h, admin, 'POST', '/api/journal/search', { person: pattern });
      expect(res.statusCode, pattern).toBe(200);
      expect(res.json().total, pattern).toBe(0);
    }
    expect(state().accounts).toEqual(before.accounts);
  });

  it('visitor window: not ended, starts within maxAdvanceDays, lasts at most maxVisitDays', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const cases: Array<[string, number, number, string | undefined]> = [
      ['ended last week', now - 8 * DAY, now - 7 * DAY, 'validTo'],
      ['runs to 2099', now, Date.parse('2099-12-31T00:00:00Z'), 'validTo'],
      ['starts 11 days ahead (limit 10)', now + 11 * DAY, now + 11 * DAY + 3600_000, 'validFrom'],
      ['lasts 6 days (limit 5)', now, now + 6 * DAY, 'validTo'],
      ['not a date', NaN, now + DAY, 'validFrom'],
      ['starts 9 days ahead, lasts 5 days', now + 9 * DAY, now + 14 * DAY - 60_000, undefined],
      ['started yesterday, ends in an hour', now - DAY, now + 3600_000, undefined],
    ];
    for (const [label, from, to, field] of cases) {
      const before = state();
      const form = multipart(
        visitorFields({ credential: 'pass', idType: 'passport', idNumber: `P${Math.abs(from % 1e7).toFixed(0)}X`, validFrom: Number.isNaN(from) ? 'next tuesday' : iso(from), validTo: iso(to) }),
        { data: photo },
      );
      const res = await call(h, admin, 'POST', '/api/visitors', form.payload, form.headers);
      if (field === undefined) {
        expect(res.statusCode, `${label}: ${res.body}`).toBe(201);
        continue;
      }
      expect(res.statusCode, `${label}: ${res.body}`).toBe(400);
      expect(res.json().error.fields, label).toContain(field);
      expect(state(), label).toEqual(before);
    }
  });

  it('a state change from another site is refused even with a valid token; sign-in too', async () => {
    const before = state();
    const foreign: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'http://evil.example', 'sec-fetch-site': 'same-origin' },
    ];
    for (const headers of foreign) {
      const open = await call(h, admin, 'POST', '/api/open', { direction: 'in', reason: 'x' }, headers);
      expect(open.statusCode, JSON.stringify(headers)).toBe(403);
      expect(open.json().error.code).toBe('CROSS_SITE');
      const signIn = await h.app.inject({ method: 'POST', url: '/api/login', payload: { name: 'chief', password: PASSWORDS.admin }, headers });
      expect(signIn.statusCode).toBe(403);
      expect(signIn.headers['set-cookie']).toBeUndefined();
    }
    expect(state()).toEqual(before);
    // The page's own requests: same origin (inject's Host is localhost:80).
    const ok = await call(h, admin, 'POST', '/api/alerts/ack', { all: true }, { origin: 'http://localhost:80', host: 'localhost:80', 'sec-fetch-site': 'same-origin' });
    expect(ok.statusCode, ok.body).toBe(200);
  });
});

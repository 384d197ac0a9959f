/**
 * Retention purge of visitor personal data and photos, and the AdminService
 * component: first-start admin account, listen, daily purge, stop.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminService, ensureInitialAdmin, parseListen } from '../../src/admin/service.js';
import { VisitorPurge } from '../../src/admin/visitor-purge.js';
import { AccountStore } from '../../src/store/accounts.js';
import { idKey } from '../../src/controller/credential.js';
import { addAccount, ID_HASH_KEY, login, makeHarness, PASSWORDS, VALID_ID_2, type Harness } from './harness.js';
import { multipart, phoneJpeg, visitorFields } from './multipart.js';

const DAY = 24 * 3600_000;

describe('visitor retention purge', () => {
  let h: Harness;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    h = await makeHarness();
    await addAccount(h, 'guard1', 'guard', PASSWORDS.guard);
    const s = await login(h, 'guard1', PASSWORDS.guard);
    const photo = await phoneJpeg();
    const now = Date.now();
    const windows = {
      old: [now - 40 * DAY, now - 31 * DAY, '11010519491231002X', 'Old Visitor'],
      recent: [now - 10 * DAY, now - 9 * DAY, VALID_ID_2, 'Recent Visitor'],
      current: [now - 3600_000, now + 3600_000, '320102199003071239', 'Current Visitor'],
      // The old visitor's ID card again, registered today: their expired card moves to the new registration.
      again: [now - 3600_000, now + 3600_000, '11010519491231002X', 'Old Visitor Again'],
    } as const;
    for (const [label, [from, to, id, name]] of Object.entries(windows)) {
      const body = multipart(
        visitorFields({ name, idNumber: id, validFrom: new Date(from).toISOString(), validTo: new Date(to).toISOString() }),
        { data: photo },
      );
      // Registered while the window was open (a window that has ended is refused): the clock goes back to then.
      h.offset.ms = Math.min(0, from + 60_000 - now);
      const res = await h.app.inject({
        method: 'POST', url: '/api/visitors', payload: body.payload,
        headers: { ...body.headers, cookie: s.cookie, 'x-csrf-token': s.csrf },
      });
      h.offset.ms = 0;
      expect(res.statusCode, res.body).toBe(201);
      ids[label] = res.json().personId;
    }
  });
  afterAll(async () => h.close());

  it('removes the personal data, photo, local person and queued registration of visits ended > visitorDays ago; journals it', () => {
    const purge = new VisitorPurge({ gate: h.gate, store: h.store, dataDir: h.dir, visitorDays: 30, log: h.deps.log, clock: h.deps.clock });
    const result = purge.run();
    expect(result.purged).toBe(1);
    const ev = h.store.journal.get(result.seq)!;
    expect(ev).toMatchObject({ type: 'purge', scope: 'visitors', retentionDays: 30, count: 1, personIds: [ids.old] });

    const old = ids.old!;
    expect(h.store.db.prepare('SELECT * FROM visitors WHERE person_id = ?').get(old)).toBeUndefined();
    expect(h.store.whitelist.person(old)).toBeUndefined();
    expect(existsSync(join(h.dir, 'photos', `${old}.jpg`))).toBe(false);
    expect(h.outbox.pending().map((p) => p.registration.person.id)).not.toContain(old);
    const everything = JSON.stringify(h.store.db.prepare("SELECT * FROM people").all()) + readdirSync(join(h.dir, 'photos')).join();
    expect(everything).not.toContain('"Old Visitor"');
    expect(everything).not.toContain(old);

    expect(h.store.whitelist.lookup(idKey('11010519491231002X', ID_HASH_KEY))?.personId).toBe(ids.again);
    for (const keep of [ids.recent!, ids.current!, ids.again!]) {
      expect(h.store.whitelist.person(keep)).toBeDefined();
      expect(existsSync(join(h.dir, 'photos', `${keep}.jpg`))).toBe(true);
    }
    // Nothing more to do: the next run purges nothing but is still on record.
    const again = purge.run();
    expect(again.purged).toBe(0);
    expect(h.store.journal.get(again.seq)).toMatchObject({ type: 'purge', count: 0, personIds: [] });
  });

  it('purges the recent one once its retention ends too', () => {
    h.offset.ms = 22 * DAY;
    const purge = new VisitorPurge({ gate: h.gate, store: h.store, dataDir: h.dir, visitorDays: 30, log: h.deps.log, clock: h.deps.clock });
    expect(purge.run()).toMatchObject({ purged: 1 });
    expect(h.store.whitelist.person(ids.recent!)).toBeUndefined();
    expect(h.store.whitelist.person(ids.current!)).toBeDefined();
    h.offset.ms = 0;
  });
});

describe('AdminService component', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness();
  });
  afterAll(async () => h.close());

  it('parses admin.listen', () => {
    expect(parseListen('0.0.0.0:8080')).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListen('8080')).toThrow(/host:port/);
  });

  it('first start: creates admin with a random password in a 0600 file the log names; the password itself is never logged', async () => {
    const file = join(h.dir, 'secret', 'admin-password');
    const service = new AdminService(h.deps, {
      listen: '127.0.0.1:0',
      visitorDays: 30,
      initialPasswordFile: file,
      purgeFirstRunMs: 50,
      purgeIntervalMs: 60_000,
    });
    await service.start();
    try {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const password = /password: (\S+)/.exec(readFileSync(file, 'utf8'))![1]!;
      expect(password.length).toBeGreaterThanOrEqual(20);
      expect(h.logs()).toContain(file);
      expect(h.logs()).not.toContain(password);
      expect(new AccountStore(h.store.db).get('admin')).toMatchObject({ role: 'admin' });

      // Over the real socket: sign in with it.
      const url = service.url()!;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${url}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'admin', password }),
      });
      expect(res.status).toBe(200);
      expect((await fetch(`${url}/api/status`)).status).toBe(401);

      // The first purge runs shortly after start and is journaled.
      const start = Date.now();
      while (!h.lastOf('purge') && Date.now() - start < 3_000) await new Promise((r) => setTimeout(r, 20));
      expect(h.lastOf('purge')).toMatchObject({ scope: 'visitors', count: 0 });
    } finally {
      await service.stop();
    }
    expect(service.url()).toBeUndefined();
    // Accounts exist now: a second start makes none and writes no file.
    expect(await ensureInitialAdmin(h.deps, join(h.dir, 'other'))).toBeUndefined();
    expect(existsSync(join(h.dir, 'other'))).toBe(false);
  });
});

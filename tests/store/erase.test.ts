/**
 * The one privacy erase (store/erase.ts) on a real SQLite store in a temp
 * dir with real photo files, through both callers' rules: central's
 * purge-person ('all') and the visitor retention purge (admin/visitor-purge.ts,
 * 'local'). A failure inside the transaction erases nothing, photo included.
 * The MQTT command itself is driven in tests/sync/commands.test.ts, the
 * admin retention purge through the admin page in tests/admin/purge-service.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { PersonEraser } from '../../src/store/erase.js';
import { VisitorStore } from '../../src/store/visitors.js';
import { RegistrationOutbox } from '../../src/store/registrations.js';
import { VisitorPurge } from '../../src/admin/visitor-purge.js';
import { silentLogger } from '../../src/log.js';
import type { GateControl } from '../../src/controller/gate-api.js';

const DAY = 24 * 3600_000;
let dir: string;
let store: Store;
let visitors: VisitorStore;
let outbox: RegistrationOutbox;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gc-erase-'));
  store = openStore({ path: join(dir, 'gate.db'), synchronous: 'normal', gateId: 'g1' });
  visitors = new VisitorStore(store.db);
  outbox = new RegistrationOutbox(store.db);
  mkdirSync(join(dir, 'photos'));
});
afterEach(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

function addVisitor(id: string, validTo: number, origin: 'local' | 'central' = 'local'): void {
  store.whitelist.upsert({
    people: [{ id, kind: 'visitor', name: `Visitor ${id}` }],
    credentials: [{ key: `id:${id}`, personId: id, status: 'active' }],
  }, origin);
  writeFileSync(join(dir, 'photos', `${id}.jpg`), 'jpeg bytes');
  visitors.insert({
    personId: id, name: `Visitor ${id}`, idType: 'resident', idMasked: '1101**********002X', idKey: `id:${id}`,
    phone: '13800000000', organisation: 'Org', purpose: 'meeting', host: 'Host', validFrom: validTo - 3_600_000, validTo,
    escort: false, review: 'none', credentialKey: `id:${id}`, photoFile: `${id}.jpg`, registeredAt: validTo - 3_600_000, operator: 'admin',
  });
  outbox.add({
    id: `r-${id}`, person: { id, kind: 'visitor', name: `Visitor ${id}`, phone: '13800000000' },
    credential: { key: `id:${id}`, personId: id, status: 'active' }, registeredAt: '2026-11-23T10:00:00.000+08:00', operator: 'admin',
  });
}

const queued = (id: string) => outbox.pending().filter((p) => p.registration.person.id === id).length;

function expectGone(id: string): void {
  expect(store.whitelist.person(id)).toBeUndefined();
  expect(store.whitelist.lookup(`id:${id}`)).toBeUndefined();
  expect(queued(id)).toBe(0);
  expect(visitors.get(id)).toBeUndefined();
  expect(existsSync(join(dir, 'photos', `${id}.jpg`))).toBe(false);
}

function expectKept(id: string): void {
  expect(store.whitelist.person(id)?.name).toBe(`Visitor ${id}`);
  expect(store.whitelist.lookup(`id:${id}`)?.personId).toBe(id);
  expect(queued(id)).toBe(1);
  expect(visitors.get(id)?.name).toBe(`Visitor ${id}`);
  expect(existsSync(join(dir, 'photos', `${id}.jpg`))).toBe(true);
}

/** A real SQLite failure in the middle of the erase: after the whitelist and the outbox rows, at the visitor row. */
function failVisitorDelete(id: string): void {
  store.db.exec(`CREATE TRIGGER fail_erase BEFORE DELETE ON visitors WHEN old.person_id = '${id}'
    BEGIN SELECT RAISE(ABORT, 'disk went away'); END`);
}

describe('PersonEraser', () => {
  it("'all' (purge-person) removes person, credentials, queued registration, visitor record and photo, and only that person", () => {
    const now = Date.now();
    addVisitor('v-1', now + DAY);
    addVisitor('v-2', now + DAY);
    addVisitor('v-3', now + DAY, 'central');
    const eraser = new PersonEraser(store.db, store.whitelist, dir);
    expect(eraser.erase(['v-1', 'v-3'], { whitelist: 'all' })).toEqual([
      { personId: 'v-1', person: true, visitor: true, registrations: 1 },
      { personId: 'v-3', person: true, visitor: true, registrations: 1 },
    ]);
    expectGone('v-1');
    expectGone('v-3');
    expectKept('v-2');
    // Already gone: nothing else touched.
    expect(eraser.erase(['v-1'], { whitelist: 'all' })).toEqual([{ personId: 'v-1', person: false, visitor: false, registrations: 0 }]);
    expectKept('v-2');
  });

  it("'local' (retention) keeps a whitelist person central has taken over, and erases the personal data beside it", () => {
    addVisitor('v-c', Date.now() - DAY, 'central');
    new PersonEraser(store.db, store.whitelist, dir).erase(['v-c'], { whitelist: 'local' });
    expect(store.whitelist.person('v-c')).toBeDefined();
    expect(queued('v-c')).toBe(0);
    expect(visitors.get('v-c')).toBeUndefined();
    expect(existsSync(join(dir, 'photos', 'v-c.jpg'))).toBe(false);
  });

  it('a failure mid-way erases nothing: every row and every photo stays', () => {
    const now = Date.now();
    addVisitor('v-1', now + DAY);
    addVisitor('v-2', now + DAY);
    failVisitorDelete('v-2');
    const eraser = new PersonEraser(store.db, store.whitelist, dir);
    expect(() => eraser.erase(['v-1', 'v-2'], { whitelist: 'all' })).toThrow(/disk went away/);
    expectKept('v-1');
    expectKept('v-2');
  });
});

describe('the visitor retention purge uses it', () => {
  function purge(): VisitorPurge {
    const recorded: Array<Record<string, unknown>> = [];
    const gate = {
      record: (ev: Record<string, unknown>) => {
        recorded.push(ev);
        return store.journal.append(ev as never, Date.now());
      },
    } as unknown as GateControl;
    return new VisitorPurge({ gate, store, dataDir: dir, visitorDays: 30, log: silentLogger(), clock: Date.now });
  }

  it('removes person, credentials, queued registration, visitor record and photo of visits ended long enough ago', () => {
    const now = Date.now();
    addVisitor('old', now - 31 * DAY);
    addVisitor('new', now - DAY);
    expect(purge().run().purged).toBe(1);
    expectGone('old');
    expectKept('new');
  });

  it('a failure mid-way leaves nothing half-erased and journals no purge', () => {
    const now = Date.now();
    addVisitor('old-1', now - 32 * DAY);
    addVisitor('old-2', now - 31 * DAY);
    failVisitorDelete('old-2');
    const last = store.journal.lastSeq();
    expect(() => purge().run()).toThrow(/disk went away/);
    expectKept('old-1');
    expectKept('old-2');
    expect(store.journal.lastSeq()).toBe(last);
  });

  it('a later batch failing keeps the earlier committed batch erased and on record; the failing batch stays whole', () => {
    const now = Date.now();
    // 200 per transaction (visitor-purge.ts BATCH), oldest first: the 201st visitor is in the second batch.
    for (let i = 0; i < 201; i++) addVisitor(`old-${String(i).padStart(3, '0')}`, now - 40 * DAY + i * 60_000);
    failVisitorDelete('old-200');
    const last = store.journal.lastSeq();
    expect(() => purge().run()).toThrow(/disk went away/);
    expectGone('old-000');
    expectGone('old-199');
    expectKept('old-200');
    expect(store.journal.lastSeq()).toBe(last + 1);
    const ev = store.journal.get(last + 1)!;
    expect(ev).toMatchObject({ type: 'purge', scope: 'visitors', count: 200 });
    expect(ev.personIds).not.toContain('old-200');
  });
});

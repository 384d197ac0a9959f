import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessLog } from '../../src/store/access.js';
import { openDatabase } from '../../src/store/db.js';
import { Journal } from '../../src/store/journal.js';
import type { Credential, Person, Schedule } from '../../src/store/types.js';
import { WhitelistStore } from '../../src/store/whitelist.js';

let db: Database.Database;
let wl: WhitelistStore;
let access: AccessLog;
const NOW = Date.parse('2026-11-23T10:00:00+08:00');

beforeEach(() => {
  db = openDatabase({ path: ':memory:', synchronous: 'normal' });
  wl = new WhitelistStore(db);
  access = new AccessLog(db, new Journal(db, { gateId: 'g1' }));
});
afterEach(() => db.close());

const staff: Person = { id: 'p1', kind: 'staff', name: 'Li Lei' };
const visitor: Person = { id: 'p2', kind: 'visitor', name: 'Han Meimei', hostId: 'p1', escort: true };
const office: Schedule = { id: 's1', windows: [{ days: [1, 2, 3, 4, 5], from: '08:00', to: '18:00' }], holidays: ['2026-10-01'] };
const card1: Credential = { key: 'card:04A1B2C3', personId: 'p1', status: 'active', scheduleId: 's1' };
const card2: Credential = {
  key: 'card:0000BEEF', personId: 'p2', status: 'active',
  validFrom: '2026-11-23T09:00:00+08:00', validTo: '2026-11-23T18:00:00+08:00', maxEntries: 2,
};

describe('lookup', () => {
  it('joins credential, person and usage into an AccessRecord with epoch-ms times, no name', () => {
    wl.upsert({ people: [staff, visitor], credentials: [card1, card2], schedules: [office] }, 'central');
    expect(wl.lookup('card:04A1B2C3')).toEqual({
      key: 'card:04A1B2C3', personId: 'p1', kind: 'staff', escort: false, status: 'active',
      entriesUsed: 0, scheduleId: 's1', origin: 'central',
    });
    access.record({ event: { type: 'access', personId: 'p2' }, nowMs: NOW, countEntryFor: 'card:0000BEEF' });
    expect(wl.lookup('card:0000BEEF')).toEqual({
      key: 'card:0000BEEF', personId: 'p2', kind: 'visitor', hostId: 'p1', escort: true, status: 'active',
      validFrom: Date.parse('2026-11-23T01:00:00Z'), validTo: Date.parse('2026-11-23T10:00:00Z'),
      maxEntries: 2, entriesUsed: 1, origin: 'central',
    });
    expect(wl.lookup('card:FFFFFFFF')).toBeUndefined();
    // Usage is read for counted credentials only: maxEntries set, or a pass (its token may carry a max).
    wl.upsert({ credentials: [{ key: 'pass:tok1', personId: 'p2', status: 'active' }] }, 'central');
    access.record({ event: { type: 'access', personId: 'p2' }, nowMs: NOW, countEntryFor: 'pass:tok1' });
    access.record({ event: { type: 'access', personId: 'p2' }, nowMs: NOW, countEntryFor: 'pass:tok1' });
    expect(wl.lookup('pass:tok1')?.entriesUsed).toBe(2);
    access.record({ event: { type: 'access', personId: 'p1' }, nowMs: NOW, countEntryFor: 'card:04A1B2C3' });
    expect(wl.lookup('card:04A1B2C3')?.entriesUsed).toBe(0); // no maxEntries: not counted against anything
    // The person's last direction comes in the same query (anti-passback).
    access.record({ event: { type: 'access', personId: 'p1', direction: 'in', granted: true, reason: 'GRANTED' }, nowMs: NOW });
    expect(wl.lookup('card:04A1B2C3')?.lastDirection).toBe('in');
  });

  it('is one indexed point query: no SCAN of credentials, people, usage or the journal', () => {
    wl.upsert({ people: [staff], credentials: [card1] }, 'central');
    // The statement the store prepared, as SQLite plans it.
    const sql = (wl as unknown as { sLookup: Database.Statement }).sLookup.source;
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('card:04A1B2C3') as Array<{ detail: string }>).map((r) => r.detail);
    // credentials, people, and as subqueries the usage counter (visited only
    // when counted) and the person's last granted access (presence)
    const searches = plan.filter((d) => !/^CORRELATED SCALAR SUBQUERY/.test(d));
    expect(searches).toHaveLength(4);
    expect(searches).toContain('SEARCH j USING COVERING INDEX journal_person (person_id=?)');
    for (const step of searches) {
      expect(step).toMatch(/^SEARCH /);
      expect(step).toMatch(/PRIMARY KEY|INDEX/);
    }
    expect(plan.join('\n')).not.toMatch(/SCAN/);
  });
});

describe('upsert / remove / schedule', () => {
  it('updates in place and keeps central/local origin as told', () => {
    wl.upsert({ people: [staff], credentials: [card1] }, 'central');
    wl.upsert({ credentials: [{ ...card1, status: 'blacklisted' }] }, 'central');
    expect(wl.lookup(card1.key)!.status).toBe('blacklisted');
    wl.upsert({ people: [{ ...visitor, hostId: undefined }] }, 'local');
    expect(wl.person('p2')).toEqual({ id: 'p2', kind: 'visitor', name: 'Han Meimei', escort: true, origin: 'local' });
  });

  it('removing a person removes its credentials', () => {
    wl.upsert({ people: [staff, visitor], credentials: [card1, card2] }, 'central');
    wl.remove({ people: ['p2'] });
    expect(wl.person('p2')).toBeUndefined();
    expect(wl.lookup(card2.key)).toBeUndefined();
    wl.remove({ credentials: [card1.key] });
    expect(wl.lookup(card1.key)).toBeUndefined();
    expect(wl.person('p1')).toBeDefined();
  });

  it('schedule() reads through a cache that every write invalidates', () => {
    wl.upsert({ schedules: [office] }, 'central');
    expect(wl.schedule('s1')).toEqual(office);
    expect(wl.schedule('nope')).toBeUndefined();
    const late = { ...office, windows: [{ days: [6, 7], from: '10:00', to: '12:00' }] };
    wl.upsert({ schedules: [late] }, 'central');
    expect(wl.schedule('s1')).toEqual(late);
    wl.remove({ schedules: ['s1'] });
    expect(wl.schedule('s1')).toBeUndefined();
  });

  it('bad input is refused whole with a code, and nothing changes', () => {
    wl.upsert({ people: [staff], credentials: [card1] }, 'central');
    // A credential whose person is unknown: the person p1 update in the same call must not land either.
    expect(() => wl.upsert({ people: [{ ...staff, kind: 'security' }], credentials: [{ ...card2, personId: 'ghost' }] }, 'central'))
      .toThrow(expect.objectContaining({ code: 'BAD_WHITELIST' }));
    expect(wl.lookup(card1.key)!.kind).toBe('staff');
    expect(wl.lookup(card2.key)).toBeUndefined();
    expect(() => wl.upsert({ credentials: [{ ...card1, validTo: 'tomorrow' }] }, 'central'))
      .toThrow(expect.objectContaining({ code: 'BAD_TIME' }));
    expect(() => wl.upsert({ people: [{ ...staff, kind: 'alien' as never }] }, 'central'))
      .toThrow(expect.objectContaining({ code: 'BAD_WHITELIST' }));
    expect(wl.lookup(card1.key)).toMatchObject({ kind: 'staff', status: 'active' });
  });
});

describe('applyDelta', () => {
  it("'applied' on the exact base version, in one transaction", () => {
    wl.replaceAll(5, { people: [staff, visitor], credentials: [card1, card2] }, { nowMs: NOW });
    const r = wl.applyDelta({
      version: 6, baseVersion: 5,
      upsert: { people: [{ id: 'p3', kind: 'contractor', name: 'Wang' }], credentials: [{ key: 'card:33', personId: 'p3', status: 'active' }] },
      delete: { credentials: [card2.key] },
    });
    expect(r).toBe('applied');
    expect(wl.version()).toBe(6);
    expect(wl.lookup('card:33')).toMatchObject({ personId: 'p3', kind: 'contractor', origin: 'central' });
    expect(wl.lookup(card2.key)).toBeUndefined();
  });

  it("'stale' for a replay of an old or equal version, 'gap' when a version was missed; neither changes anything", () => {
    wl.replaceAll(5, { people: [staff], credentials: [card1] }, { nowMs: NOW });
    const change = { upsert: { credentials: [{ ...card1, status: 'suspended' as const }] }, delete: {} };
    expect(wl.applyDelta({ version: 5, baseVersion: 4, ...change })).toBe('stale');
    expect(wl.applyDelta({ version: 3, baseVersion: 2, ...change })).toBe('stale');
    expect(wl.applyDelta({ version: 7, baseVersion: 6, ...change })).toBe('gap');
    expect(wl.version()).toBe(5);
    expect(wl.lookup(card1.key)!.status).toBe('active');
  });

  it('a delta that fails half-way leaves the whitelist and version as they were', () => {
    wl.replaceAll(1, { people: [staff], credentials: [card1] }, { nowMs: NOW });
    expect(() => wl.applyDelta({
      version: 2, baseVersion: 1,
      upsert: { credentials: [{ ...card1, status: 'blacklisted' }, { key: 'card:77', personId: 'ghost', status: 'active' }] },
      delete: {},
    })).toThrow(expect.objectContaining({ code: 'BAD_WHITELIST' }));
    expect(wl.version()).toBe(1);
    expect(wl.lookup(card1.key)!.status).toBe('active');
  });
});

describe('replaceAll', () => {
  const localVisitor: Person = { id: 'v9', kind: 'visitor', name: 'Zhao' };
  const localPass: Credential = { key: 'pass:v9', personId: 'v9', status: 'active', validTo: '2026-11-23T18:00:00+08:00' };
  const expiredVisitor: Person = { id: 'v8', kind: 'visitor', name: 'Qian' };
  const expiredPass: Credential = { key: 'pass:v8', personId: 'v8', status: 'active', validTo: '2026-11-22T18:00:00+08:00' };

  it('replaces central data, keeps unexpired local visitors, drops expired ones', () => {
    wl.replaceAll(1, { people: [staff, visitor], credentials: [card1, card2], schedules: [office] }, { nowMs: NOW });
    wl.upsert({ people: [localVisitor, expiredVisitor], credentials: [localPass, expiredPass] }, 'local');
    wl.replaceAll(2, { people: [staff], credentials: [card1] }, { nowMs: NOW });
    expect(wl.version()).toBe(2);
    expect(wl.lookup(card2.key)).toBeUndefined();
    expect(wl.person('p2')).toBeUndefined();
    expect(wl.schedule('s1')).toBeUndefined();
    expect(wl.lookup('pass:v9')).toMatchObject({ personId: 'v9', origin: 'local' });
    expect(wl.person('v9')).toMatchObject({ name: 'Zhao', origin: 'local' });
    expect(wl.lookup('pass:v8')).toBeUndefined();
    expect(wl.person('v8')).toBeUndefined();
  });

  it('central wins once it lists the local person', () => {
    wl.upsert({ people: [localVisitor], credentials: [localPass] }, 'local');
    wl.replaceAll(3, { people: [{ ...localVisitor, name: 'Zhao Central' }], credentials: [{ ...localPass, status: 'suspended' }] }, { nowMs: NOW });
    expect(wl.person('v9')).toMatchObject({ name: 'Zhao Central', origin: 'central' });
    expect(wl.lookup('pass:v9')).toMatchObject({ status: 'suspended', origin: 'central' });
  });

  it('usage counters and presence survive a replace', () => {
    wl.replaceAll(1, { people: [staff, visitor], credentials: [card1, card2] }, { nowMs: NOW });
    access.record({ event: { type: 'access', personId: 'p2', direction: 'in', granted: true, reason: 'GRANTED' }, nowMs: NOW, countEntryFor: card2.key });
    access.record({ event: { type: 'access', personId: 'p2' }, nowMs: NOW + 1, countEntryFor: card2.key });
    wl.replaceAll(2, { people: [staff, visitor], credentials: [card1, card2] }, { nowMs: NOW });
    expect(wl.lookup(card2.key)!.entriesUsed).toBe(2);
    expect(wl.lookup(card2.key)!.lastDirection).toBe('in');
    // Even when the credential leaves the whitelist and comes back.
    wl.replaceAll(3, { people: [staff], credentials: [card1] }, { nowMs: NOW });
    wl.replaceAll(4, { people: [staff, visitor], credentials: [card1, card2] }, { nowMs: NOW });
    expect(wl.lookup(card2.key)!.entriesUsed).toBe(2);
  });
});

describe('version', () => {
  it('is 0 before any whitelist and persists', () => {
    expect(wl.version()).toBe(0);
    wl.setVersion(12);
    expect(new WhitelistStore(db).version()).toBe(12);
    expect(() => wl.setVersion(-1)).toThrow(expect.objectContaining({ code: 'BAD_WHITELIST' }));
  });
});

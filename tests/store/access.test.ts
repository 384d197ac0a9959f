import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessLog } from '../../src/store/access.js';
import { openDatabase } from '../../src/store/db.js';
import { Journal, verifyChain } from '../../src/store/journal.js';
import { WhitelistStore } from '../../src/store/whitelist.js';
import { presenceSql } from '../../src/store/types.js';

let db: Database.Database;
let journal: Journal;
let access: AccessLog;
let wl: WhitelistStore;
const NOW = Date.parse('2026-11-23T10:00:00+08:00');
const KEY = 'card:04A1B2C3';
const grant = { type: 'access' as const, reader: 'entry', direction: 'in', credential: 'card:****B2C3', personId: 'p1', granted: true, reason: 'GRANTED' };

beforeEach(() => {
  db = openDatabase({ path: ':memory:', synchronous: 'normal' });
  journal = new Journal(db, { gateId: 'g1' });
  access = new AccessLog(db, journal);
  wl = new WhitelistStore(db);
  wl.upsert({ people: [{ id: 'p1', kind: 'staff', name: 'Li' }], credentials: [{ key: KEY, personId: 'p1', status: 'active', maxEntries: 5 }] }, 'central');
});
afterEach(() => db.close());

describe('AccessLog.record', () => {
  it('commits the event, counts the entry and moves the person, and returns the committed event', () => {
    const ev = access.record({ event: grant, nowMs: NOW, countEntryFor: KEY });
    expect(ev).toMatchObject({ seq: 1, type: 'access', personId: 'p1', granted: true, reason: 'GRANTED', gate: 'g1' });
    expect(journal.get(1)).toEqual(ev);
    expect(wl.lookup(KEY)!.entriesUsed).toBe(1);
    expect(wl.lookup(KEY)!.lastDirection).toBe('in');
    expect(access.inside()).toEqual([{ personId: 'p1', since: NOW }]);

    access.record({ event: { ...grant, direction: 'out' }, nowMs: NOW + 60_000 });
    expect(wl.lookup(KEY)!.lastDirection).toBe('out');
    expect(access.inside()).toEqual([]);
    expect(wl.lookup(KEY)!.entriesUsed).toBe(1); // no countEntryFor: a denial or an exit counts nothing
    expect(verifyChain(db)).toMatchObject({ ok: true, checked: 2 });
  });

  it("a listed person's presence is their last granted access: denials, passages and other events do not move it", () => {
    access.record({ event: grant, nowMs: NOW });
    access.record({ event: { ...grant, direction: 'out', granted: false, reason: 'ANTI_PASSBACK' }, nowMs: NOW + 1 });
    access.record({ event: { ...grant, direction: 'out', granted: false, reason: 'DUPLICATE_TAP' }, nowMs: NOW + 2 });
    journal.append({ type: 'passage', direction: 'out', passed: true }, NOW + 3);
    journal.append({ type: 'admin_action', action: 'account_created', operator: 'admin', personId: 'p1', direction: 'out', reason: 'GRANTED' }, NOW + 4);
    expect(wl.lookup(KEY)!.lastDirection).toBe('in');
    expect(access.inside()).toEqual([{ personId: 'p1', since: NOW }]);
    // An emergency opening moves the person too.
    access.record({ event: { ...grant, direction: 'out', reason: 'EMERGENCY_OPEN' }, nowMs: NOW + 5 });
    expect(wl.lookup(KEY)!.lastDirection).toBe('out');
    expect(access.inside()).toEqual([]);
    // No history: no direction (anti-passback lets the first tap through).
    wl.upsert({ people: [{ id: 'p2', kind: 'staff', name: 'Wu' }], credentials: [{ key: 'card:0BADF00D', personId: 'p2', status: 'active' }] }, 'central');
    expect(wl.lookup('card:0BADF00D')!.lastDirection).toBeUndefined();
  });

  it('keeps the presence of a credential with no whitelist record by its key, apart from listed people', () => {
    const pass = { type: 'access' as const, reader: 'entry', direction: 'in', credential: 'pass:****', granted: true, reason: 'GRANTED' };
    access.record({ event: grant, nowMs: NOW });
    access.record({ event: pass, nowMs: NOW + 10, unlisted: { key: 'pass:abc', direction: 'in' } });
    expect(access.unlistedDirection('pass:abc')).toBe('in');
    expect(access.inside()).toEqual([{ personId: 'p1', since: NOW }, { personId: 'pass:abc', since: NOW + 10 }]);
    access.record({ event: { ...pass, direction: 'out' }, nowMs: NOW + 20, unlisted: { key: 'pass:abc', direction: 'out' } });
    expect(access.unlistedDirection('pass:abc')).toBe('out');
    expect(access.inside()).toEqual([{ personId: 'p1', since: NOW }]);
  });

  it('counts entries of keys that are not in the whitelist (offline QR passes)', () => {
    access.record({ event: grant, nowMs: NOW, countEntryFor: 'pass:abc' });
    access.record({ event: grant, nowMs: NOW + 1, countEntryFor: 'pass:abc' });
    expect(access.entriesUsed('pass:abc')).toBe(2);
    expect(access.entriesUsed('pass:never')).toBe(0);
  });

  it('when the journal insert fails, the entry count and presence are unchanged', () => {
    access.record({ event: grant, nowMs: NOW, countEntryFor: KEY, unlisted: { key: 'pass:abc', direction: 'in' } });
    // A disk-full or a constraint would fail the INSERT the same way.
    db.exec(`CREATE TRIGGER fail_journal BEFORE INSERT ON journal BEGIN SELECT RAISE(ABORT, 'journal insert failed'); END`);
    expect(() => access.record({ event: { ...grant, direction: 'out' }, nowMs: NOW + 1, countEntryFor: KEY, unlisted: { key: 'pass:abc', direction: 'out' } }))
      .toThrow('journal insert failed');
    expect(wl.lookup(KEY)!.entriesUsed).toBe(1);
    expect(wl.lookup(KEY)!.lastDirection).toBe('in');
    expect(access.unlistedDirection('pass:abc')).toBe('in');
    expect(journal.lastSeq()).toBe(1);
    expect(db.inTransaction).toBe(false);
  });

  it('when the presence write fails after the journal insert, the event is not committed either', () => {
    db.exec(`CREATE TRIGGER fail_presence BEFORE INSERT ON presence BEGIN SELECT RAISE(ABORT, 'presence failed'); END`);
    expect(() => access.record({ event: grant, nowMs: NOW, countEntryFor: KEY, unlisted: { key: 'pass:abc', direction: 'in' } }))
      .toThrow('presence failed');
    expect(journal.lastSeq()).toBe(0);
    expect(wl.lookup(KEY)!.entriesUsed).toBe(0);
    expect(wl.lookup(KEY)!.lastDirection).toBeUndefined();
    db.exec('DROP TRIGGER fail_presence');
    // The seq that failed is not burnt: the next commit is still 1.
    expect(access.record({ event: grant, nowMs: NOW, unlisted: { key: 'pass:abc', direction: 'in' } }).seq).toBe(1);
  });

  it('reads presence from the journal index alone, and a tap writes no presence row for a listed person', () => {
    // The statements the store prepared, as SQLite plans them.
    const stmt = (name: 'sInside') => (access as unknown as Record<string, Database.Statement>)[name]!;
    const plan = (st: Database.Statement, ...params: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${st.source}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join('\n');
    expect(plan(db.prepare(`SELECT ${presenceSql('?')}`), 'p1')).toMatch(/SEARCH j USING COVERING INDEX journal_person \(person_id=\?\)/);
    const inside = plan(stmt('sInside'));
    expect(inside).toMatch(/(SCAN|SEARCH) journal USING COVERING INDEX journal_person/); // one index-only walk
    expect(inside).toMatch(/SEARCH j USING INTEGER PRIMARY KEY \(rowid=\?\)/); // rows read for the time only
    access.record({ event: grant, nowMs: NOW });
    expect(db.prepare('SELECT count(*) FROM presence').pluck().get()).toBe(0);
  });
});

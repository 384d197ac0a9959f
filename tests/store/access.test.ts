import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessLog } from '../../src/store/access.js';
import { openDatabase } from '../../src/store/db.js';
import { Journal, verifyChain } from '../../src/store/journal.js';
import { WhitelistStore } from '../../src/store/whitelist.js';

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
    const ev = access.record({ event: grant, nowMs: NOW, countEntryFor: KEY, presence: { personId: 'p1', direction: 'in' } });
    expect(ev).toMatchObject({ seq: 1, type: 'access', personId: 'p1', granted: true, reason: 'GRANTED', gate: 'g1' });
    expect(journal.get(1)).toEqual(ev);
    expect(wl.lookup(KEY)!.entriesUsed).toBe(1);
    expect(access.lastDirection('p1')).toBe('in');
    expect(access.inside()).toEqual([{ personId: 'p1', since: NOW }]);

    access.record({ event: { ...grant, direction: 'out' }, nowMs: NOW + 60_000, presence: { personId: 'p1', direction: 'out' } });
    expect(access.lastDirection('p1')).toBe('out');
    expect(access.inside()).toEqual([]);
    expect(wl.lookup(KEY)!.entriesUsed).toBe(1); // no countEntryFor: a denial or an exit counts nothing
    expect(verifyChain(db)).toMatchObject({ ok: true, checked: 2 });
  });

  it('counts entries of keys that are not in the whitelist (offline QR passes)', () => {
    access.record({ event: grant, nowMs: NOW, countEntryFor: 'pass:abc' });
    access.record({ event: grant, nowMs: NOW + 1, countEntryFor: 'pass:abc' });
    expect(access.entriesUsed('pass:abc')).toBe(2);
    expect(access.entriesUsed('pass:never')).toBe(0);
  });

  it('when the journal insert fails, the entry count and presence are unchanged', () => {
    access.record({ event: grant, nowMs: NOW, countEntryFor: KEY, presence: { personId: 'p1', direction: 'in' } });
    // A disk-full or a constraint would fail the INSERT the same way.
    db.exec(`CREATE TRIGGER fail_journal BEFORE INSERT ON journal BEGIN SELECT RAISE(ABORT, 'journal insert failed'); END`);
    expect(() => access.record({ event: { ...grant, direction: 'out' }, nowMs: NOW + 1, countEntryFor: KEY, presence: { personId: 'p1', direction: 'out' } }))
      .toThrow('journal insert failed');
    expect(wl.lookup(KEY)!.entriesUsed).toBe(1);
    expect(access.lastDirection('p1')).toBe('in');
    expect(journal.lastSeq()).toBe(1);
    expect(db.inTransaction).toBe(false);
  });

  it('when the presence write fails after the journal insert, the event is not committed either', () => {
    db.exec(`CREATE TRIGGER fail_presence BEFORE INSERT ON presence BEGIN SELECT RAISE(ABORT, 'presence failed'); END`);
    expect(() => access.record({ event: grant, nowMs: NOW, countEntryFor: KEY, presence: { personId: 'p1', direction: 'in' } }))
      .toThrow('presence failed');
    expect(journal.lastSeq()).toBe(0);
    expect(wl.lookup(KEY)!.entriesUsed).toBe(0);
    db.exec('DROP TRIGGER fail_presence');
    // The seq that failed is not burnt: the next commit is still 1.
    expect(access.record({ event: grant, nowMs: NOW, presence: { personId: 'p1', direction: 'in' } }).seq).toBe(1);
  });

  it('forgetPerson drops presence (purge-person)', () => {
    access.record({ event: grant, nowMs: NOW, presence: { personId: 'p1', direction: 'in' } });
    access.forgetPerson('p1');
    expect(access.lastDirection('p1')).toBeUndefined();
  });
});

import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { eventBody, GENESIS_HASH, hashEvent, Journal, verifyChain, verifyRows } from '../../src/store/journal.js';
import type { NewEvent } from '../../src/store/types.js';

const savedTz = process.env.TZ;
const T0 = Date.UTC(2026, 10, 23, 2, 49, 46, 123);
let db: Database.Database;
let journal: Journal;
let ids: number;

beforeEach(() => {
  process.env.TZ = 'Asia/Shanghai';
  db = openDatabase({ path: ':memory:', synchronous: 'normal' });
  ids = 0;
  journal = new Journal(db, { gateId: 'g1', newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}` });
});
afterEach(() => {
  db.close();
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

const access = (i: number) => ({
  type: 'access' as const,
  reader: 'entry',
  direction: i % 2 ? ('in' as const) : ('out' as const),
  credential: `card:****${String(i).padStart(4, '0')}`,
  personId: `p${i % 3}`,
  granted: true,
  reason: 'GRANTED',
});
const fill = (n: number) => {
  for (let i = 1; i <= n; i++) journal.append(access(i), T0 + i * 1000);
};

describe('Journal.append', () => {
  it('hashes exactly as DESIGN.md says (known answer)', () => {
    const ev = journal.append({ type: 'startup', version: '0.1.0' }, T0);
    // RFC 8785 by hand: keys sorted, no spaces.
    const canonical =
      '{"gate":"g1","id":"00000000-0000-4000-8000-000000000001","prevHash":"' + GENESIS_HASH +
      '","seq":1,"ts":"2026-11-23T10:49:46.123+08:00","type":"startup","version":"0.1.0"}';
    const expected = createHash('sha256').update(`${GENESIS_HASH}\n${canonical}`).digest('hex');
    expect(ev).toEqual({
      seq: 1,
      id: '00000000-0000-4000-8000-000000000001',
      ts: '2026-11-23T10:49:46.123+08:00',
      gate: 'g1',
      type: 'startup',
      version: '0.1.0',
      prevHash: GENESIS_HASH,
      hash: expected,
    });
    expect(eventBody(ev)).toBe(canonical);
    expect(db.prepare('SELECT body FROM journal WHERE seq = 1').pluck().get()).toBe(canonical);
  });

  it('numbers seq from 1 without gaps and links each prevHash to the previous hash', () => {
    fill(5);
    const all = journal.range(1, 100, 100);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < all.length; i++) expect(all[i]!.prevHash).toBe(all[i - 1]!.hash);
    for (const e of all) {
      const { hash, ...rest } = e;
      expect(hashEvent(e.prevHash, rest)).toBe(hash);
    }
    expect(new Set(all.map((e) => e.id)).size).toBe(5);
    expect(journal.lastSeq()).toBe(5);
    expect(journal.get(3)).toEqual(all[2]);
    expect(journal.get(9)).toBeUndefined();
    expect(journal.range(2, 4, 2).map((e) => e.seq)).toEqual([2, 3]);
  });

  it('uses real UUIDs by default', () => {
    const j = new Journal(db, { gateId: 'g1' });
    expect(j.append({ type: 'startup' }, T0).id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('returns what was hashed: undefined fields vanish, Dates become strings', () => {
    const ev = journal.append({ type: 'clock_warning', skew: undefined, seen: new Date(T0) }, T0);
    expect('skew' in ev).toBe(false);
    expect(ev.seen).toBe('2026-11-23T02:49:46.123Z');
    expect(verifyChain(db).ok).toBe(true);
  });

  it('returns exactly what get() reads back, for flat and nested events alike', () => {
    const events: NewEvent[] = [
      { type: 'access', reader: 'entry', direction: 'in', credential: 'card:****0001', personId: 'p1', granted: true, reason: 'GRANTED', n: 1.5, z: -0, none: null },
      { type: 'whitelist_applied', version: 2, from: 1, kind: 'delta', counts: { upsert: { people: 1 } } },
      { type: 'startup', version: '1', big: 1e21 },
    ];
    for (const e of events) {
      const ev = journal.append(e, T0);
      expect(ev).toStrictEqual(journal.get(ev.seq));
    }
  });

  it('refuses journal-owned fields, unknown types and non-JSON values, writing nothing', () => {
    expect(() => journal.append({ type: 'access', seq: 99 }, T0)).toThrow(expect.objectContaining({ code: 'BAD_EVENT' }));
    expect(() => journal.append({ type: 'access', hash: 'x' }, T0)).toThrow(expect.objectContaining({ code: 'BAD_EVENT' }));
    expect(() => journal.append({ type: 'nope' } as never, T0)).toThrow(expect.objectContaining({ code: 'BAD_EVENT' }));
    expect(() => journal.append({ type: 'access', n: Number.NaN }, T0)).toThrow(expect.objectContaining({ code: 'BAD_EVENT' }));
    expect(() => journal.append({ type: 'access' }, Number.NaN)).toThrow(expect.objectContaining({ code: 'BAD_TIME' }));
    expect(journal.lastSeq()).toBe(0);
    expect(journal.append({ type: 'startup' }, T0).seq).toBe(1);
  });

  it('fills the filter columns from the event', () => {
    journal.append(access(1), T0);
    journal.append({ type: 'startup' }, T0 + 5);
    const rows = db.prepare('SELECT seq, ts_ms, type, person_id, reason, direction FROM journal ORDER BY seq').all();
    expect(rows).toEqual([
      { seq: 1, ts_ms: T0, type: 'access', person_id: 'p1', reason: 'GRANTED', direction: 'in' },
      { seq: 2, ts_ms: T0 + 5, type: 'startup', person_id: null, reason: null, direction: null },
    ]);
  });
});

describe('purge and checkpoint', () => {
  it('keeps {seq, hash} of the last purged event; seq and the chain continue from it', () => {
    fill(10);
    const h4 = journal.get(4)!.hash;
    expect(journal.checkpoint()).toBeUndefined();
    expect(journal.purgeUpTo(4)).toBe(4);
    expect(journal.checkpoint()).toEqual({ seq: 4, hash: h4 });
    expect(journal.get(4)).toBeUndefined();
    expect(journal.get(5)!.prevHash).toBe(h4);
    expect(journal.purgeUpTo(3)).toBe(0); // already gone
    expect(verifyChain(db)).toMatchObject({ ok: true, checked: 6, fromSeq: 5, toSeq: 10 });
    // Purge everything: the next event still gets seq 11 and links to the checkpoint.
    const h10 = journal.get(10)!.hash;
    expect(journal.purgeUpTo(1_000)).toBe(6);
    expect(journal.checkpoint()).toEqual({ seq: 10, hash: h10 });
    expect(journal.lastSeq()).toBe(10);
    const next = journal.append({ type: 'purge', upToSeq: 10 }, T0 + 99_000);
    expect(next).toMatchObject({ seq: 11, prevHash: h10 });
    expect(verifyChain(db)).toMatchObject({ ok: true, checked: 1, fromSeq: 11, toSeq: 11 });
  });
});

describe('verifyChain', () => {
  it('passes an intact journal and an empty one', () => {
    expect(verifyChain(db)).toEqual({ ok: true, checked: 0 });
    fill(20);
    expect(verifyChain(db)).toEqual({ ok: true, checked: 20, fromSeq: 1, toSeq: 20 });
  });

  it('an edited event body → hash mismatch at that seq', () => {
    fill(10);
    db.prepare("UPDATE journal SET body = replace(body, '\"granted\":true', '\"granted\":false') WHERE seq = 6").run();
    expect(verifyChain(db)).toMatchObject({ ok: false, firstBrokenSeq: 6, checked: 5, reason: expect.stringMatching(/hash mismatch/) });
  });

  it('an edited hash → caught at that seq; a consistent rewrite (body + recomputed hash) → prevHash mismatch at the next', () => {
    fill(10);
    db.prepare("UPDATE journal SET hash = ? WHERE seq = 3").run('f'.repeat(64));
    expect(verifyChain(db)).toMatchObject({ ok: false, firstBrokenSeq: 3, reason: expect.stringMatching(/hash mismatch/) });

    const three = journal.get(3)!;
    db.prepare('UPDATE journal SET hash = ? WHERE seq = 3').run(hashEvent(three.prevHash, JSON.parse(eventBody(three)) as object));
    expect(verifyChain(db).ok).toBe(true);

    // An attacker who edits event 7 and recomputes its hash.
    const ev = journal.get(7)!;
    const { hash: _h, ...rest } = ev;
    const forged = { ...rest, granted: false, reason: 'BLACKLISTED' };
    db.prepare('UPDATE journal SET body = ?, hash = ?, reason = ? WHERE seq = 7').run(
      eventBody({ ...forged, hash: '' } as never), hashEvent(ev.prevHash, forged), 'BLACKLISTED');
    expect(verifyChain(db)).toMatchObject({ ok: false, firstBrokenSeq: 8, checked: 7, reason: expect.stringMatching(/prevHash mismatch/) });
  });

  it('a deleted row → seq gap naming the missing seq', () => {
    fill(10);
    db.prepare('DELETE FROM journal WHERE seq = 5').run();
    expect(verifyChain(db)).toMatchObject({ ok: false, firstBrokenSeq: 5, checked: 4, reason: 'seq gap: event 5 missing' });
    db.prepare('DELETE FROM journal WHERE seq IN (1, 2)').run();
    expect(verifyChain(db)).toMatchObject({ ok: false, firstBrokenSeq: 1, checked: 0, reason: 'seq gap: event 1..2 missing' });
  });

  it('an edited checkpoint → mismatch at the first event after it', () => {
    fill(6);
    journal.purgeUpTo(2);
    db.prepare('UPDATE journal_checkpoint SET hash = ?').run('0'.repeat(64));
    expect(verifyChain(db)).toMatchObject({ ok: false, firstBrokenSeq: 3, reason: expect.stringMatching(/checkpoint/) });
  });

  it('a filter column that disagrees with the hashed event is caught', () => {
    fill(4);
    db.prepare("UPDATE journal SET person_id = 'someone-else' WHERE seq = 2").run();
    expect(verifyChain(db)).toMatchObject({ ok: false, firstBrokenSeq: 2, reason: expect.stringMatching(/person_id/) });
  });

  it('refuses a database without a journal', async () => {
    const Database = (await import('../../src/store/sqlite-driver.js')).default;
    const other = new Database(':memory:');
    expect(() => verifyChain(other)).toThrow(expect.objectContaining({ code: 'NOT_A_GATE_DB' }));
    other.close();
  });

  it('verifyRows checks events held elsewhere (central) from their JSON form', () => {
    fill(5);
    const events = journal.range(1, 5, 5);
    const rows = events.map((e) => ({ seq: e.seq, hash: e.hash, body: eventBody(e) }));
    expect(verifyRows(rows)).toEqual({ ok: true, checked: 5, fromSeq: 1, toSeq: 5 });
    expect(verifyRows(rows.slice(2), { seq: 2, hash: events[1]!.hash })).toMatchObject({ ok: true, checked: 3 });
    rows[3] = { ...rows[3]!, body: rows[3]!.body.replace('GRANTED', 'EXPIRED') };
    expect(verifyRows(rows)).toMatchObject({ ok: false, firstBrokenSeq: 4 });
  });

  it('walks a long journal, and stops pulling rows at the first break (streaming)', () => {
    db.transaction(() => fill(20_000))();
    expect(verifyChain(db)).toEqual({ ok: true, checked: 20_000, fromSeq: 1, toSeq: 20_000 });
    const good = journal.range(1, 2, 2).map((e) => ({ seq: e.seq, hash: e.hash, body: eventBody(e) }));
    let pulled = 0;
    function* rows() {
      for (const r of good) yield (pulled++, r);
      yield (pulled++, { ...good[1]!, seq: 4 }); // 3 is missing
      throw new Error('verifyRows read past the first break');
    }
    expect(verifyRows(rows())).toMatchObject({ ok: false, firstBrokenSeq: 3 });
    expect(pulled).toBe(3);
  });
});

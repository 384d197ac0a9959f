import Database from '../../src/store/sqlite-driver.js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CentralStore, verifyCentralDb } from '../../src/store/central.js';
import { openStore, type JournalEvent } from '../../src/store/index.js';
import { tempDir } from './capture.js';

/** Real hash-chained events from a gate journal. */
function gateEvents(gate: string, n: number): JournalEvent[] {
  const s = openStore({ path: ':memory:', synchronous: 'normal', gateId: gate });
  const out: JournalEvent[] = [];
  for (let i = 0; i < n; i++) out.push(s.journal.append({ type: 'passage', direction: 'in', reader: 'entry' }, 1_700_000_000_000 + i * 1000));
  s.close();
  return out;
}

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});

describe('CentralStore', () => {
  it('stores events once whatever the order, acks only the contiguous prefix, verifies the chain', () => {
    const store = new CentralStore(':memory:');
    const evs = gateEvents('g1', 10);
    let r = store.ingest('s1', 'g1', evs.slice(5, 8), 1);
    expect(r).toMatchObject({ inserted: 3, duplicates: 0, state: { contiguousSeq: 0, verifiedSeq: 0, maxSeq: 8 } });
    expect(store.gaps('g1')).toEqual([{ from: 1, to: 5 }]);
    r = store.ingest('s1', 'g1', evs.slice(0, 3), 2);
    expect(r.state).toMatchObject({ contiguousSeq: 3, verifiedSeq: 3 });
    expect(store.gaps('g1')).toEqual([{ from: 4, to: 5 }]);
    r = store.ingest('s1', 'g1', evs, 3); // the gate resends everything
    expect(r).toMatchObject({ inserted: 4, duplicates: 6, conflicts: 0, state: { contiguousSeq: 10, verifiedSeq: 10, maxSeq: 10 } });
    expect(r.state.brokenSeq).toBeUndefined();
    expect(store.gaps('g1')).toEqual([]);
    expect(store.events('g1', 1)).toEqual(evs);
    expect([...store.iterateEvents('g1')].map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    store.close();
  });

  it('flags a broken chain at the first bad seq and a conflicting duplicate, keeping the first copy', () => {
    const store = new CentralStore(':memory:');
    const evs = gateEvents('g2', 6);
    const forged = { ...evs[3]!, direction: 'out' }; // content changed, hash kept
    store.ingest('s1', 'g2', [...evs.slice(0, 3), forged, ...evs.slice(4)], 1);
    const st = store.state('g2')!;
    expect(st).toMatchObject({ contiguousSeq: 6, verifiedSeq: 3, brokenSeq: 4 });
    expect(st.brokenReason).toMatch(/seq 4: hash does not match/);
    const again = store.ingest('s1', 'g2', [{ ...evs[1]!, hash: 'f'.repeat(64) }], 2);
    expect(again.conflicts).toBe(1);
    expect(store.events('g2', 2, 2)[0]!.hash).toBe(evs[1]!.hash);
    expect(store.anomalies('g2').map((a) => [a.seq, a.kind])).toEqual([
      [4, 'chain_broken'],
      [2, 'conflict'],
    ]);
    store.close();
  });

  it('keeps gates apart and can be verified read-only from the file (gatectl journal verify)', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'central.db');
    const store = new CentralStore(path);
    store.ingest('s1', 'a', gateEvents('a', 4), 1);
    store.ingest('s1', 'b', gateEvents('b', 3), 1);
    store.close();
    const db = new Database(path, { readonly: true });
    expect(verifyCentralDb(db).map((v) => [v.gate, v.result.ok, v.result.checked])).toEqual([
      ['a', true, 4],
      ['b', true, 3],
    ]);
    db.close();
    // Tamper with one stored event behind the collector's back.
    const rw = new Database(path);
    rw.prepare("UPDATE central_events SET body = replace(body, '\"in\"', '\"out\"') WHERE gate = 'b' AND seq = 2").run();
    rw.close();
    const ro = new Database(path, { readonly: true });
    const b = verifyCentralDb(ro).find((v) => v.gate === 'b')!.result;
    expect(b).toMatchObject({ ok: false, firstBrokenSeq: 2 });
    ro.close();
  });

  it('stores a registration once and statuses by gate', () => {
    const store = new CentralStore(':memory:');
    expect(store.saveRegistration('s1', 'g1', 'r1', { id: 'r1' }, 1)).toBe(true);
    expect(store.saveRegistration('s1', 'g1', 'r1', { id: 'r1' }, 2)).toBe(false);
    store.saveStatus('s1', 'g1', { online: true }, 1);
    store.saveStatus('s1', 'g1', { online: false }, 2);
    expect(store.statuses()).toEqual([{ gate: 'g1', site: 's1', online: false, status: { online: false }, receivedAt: 2 }]);
    store.close();
  });
});

describe('CentralStore on the wrong file', () => {
  it('refuses a gate database (never adds its tables to it) and, for readers, a missing file', () => {
    tmp = tempDir();
    const gatePath = join(tmp.dir, 'gate.db');
    openStore({ path: gatePath, synchronous: 'normal', gateId: 'g1' }).close();
    expect(() => new CentralStore(gatePath)).toThrow(expect.objectContaining({ code: 'NOT_A_CENTRAL_DB' }));
    const db = new Database(gatePath, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name LIKE 'central_%'").pluck().get()).toBe(0);
    db.close();
    expect(() => new CentralStore(join(tmp.dir, 'none.db'), { mustExist: true })).toThrow();
  });
});

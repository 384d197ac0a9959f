import Database from '../../src/store/sqlite-driver.js';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CentralStore, verifyCentralDb } from '../../src/store/central/central.js';
import { PgCentralStore } from '../../src/store/central/central-pg.js';
import { sqliteCollectorStore, type CollectorStore } from '../../src/store/central/collector-store.js';
import { openStore, type JournalEvent } from '../../src/store/index.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { gatectl, tempDir } from './capture.js';
import pg from 'pg';

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

let postgres: Postgres;
let dbn = 0;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

const kinds: Array<[string, () => Promise<CollectorStore>]> = [
  ['sqlite', async () => sqliteCollectorStore(new CentralStore(':memory:'))],
  ['postgres', async () => PgCentralStore.open(await postgres.createDatabase(`cs${++dbn}`))],
];

describe.each(kinds)('collector store on %s', (_kind, open) => {
  it('stores events once whatever the order, acks only the contiguous prefix, verifies the chain', async () => {
    const store = await open();
    const evs = gateEvents('g1', 10);
    let r = await store.ingest('s1', 'g1', evs.slice(5, 8), 1);
    expect(r).toMatchObject({ inserted: 3, duplicates: 0, state: { contiguousSeq: 0, verifiedSeq: 0, maxSeq: 8 } });
    expect(await store.gaps('g1')).toEqual([{ from: 1, to: 5 }]);
    r = await store.ingest('s1', 'g1', evs.slice(0, 3), 2);
    expect(r.state).toMatchObject({ contiguousSeq: 3, verifiedSeq: 3 });
    expect(await store.gaps('g1')).toEqual([{ from: 4, to: 5 }]);
    expect((await store.gapped()).map((g) => g.gate)).toEqual(['g1']);
    r = await store.ingest('s1', 'g1', evs, 3); // the gate resends everything
    expect(r).toMatchObject({ inserted: 4, duplicates: 6, conflicts: 0, state: { contiguousSeq: 10, verifiedSeq: 10, maxSeq: 10 } });
    expect(r.state.brokenSeq).toBeUndefined();
    expect(await store.gaps('g1')).toEqual([]);
    expect(await store.gapped()).toEqual([]);
    expect(await store.events('g1', 1)).toEqual(evs);
    expect(await store.verifyAll()).toMatchObject([{ gate: 'g1', result: { ok: true, checked: 10 } }]);
    await store.close();
  });

  it('flags a broken chain at the first bad seq and a conflicting duplicate, keeping the first copy', async () => {
    const store = await open();
    const evs = gateEvents('g2', 6);
    const forged = { ...evs[3]!, direction: 'out' }; // content changed, hash kept
    await store.ingest('s1', 'g2', [...evs.slice(0, 3), forged, ...evs.slice(4)], 1);
    const st = (await store.state('g2'))!;
    expect(st).toMatchObject({ contiguousSeq: 6, verifiedSeq: 3, brokenSeq: 4 });
    expect(st.brokenReason).toMatch(/seq 4: hash does not match/);
    const again = await store.ingest('s1', 'g2', [{ ...evs[1]!, hash: 'f'.repeat(64) }], 2);
    expect(again.conflicts).toBe(1);
    expect((await store.events('g2', 2, 2))[0]!.hash).toBe(evs[1]!.hash);
    expect((await store.anomalies('g2')).map((a) => [a.seq, a.kind])).toEqual([
      [4, 'chain_broken'],
      [2, 'conflict'],
    ]);
    expect((await store.verifyAll())[0]!.result).toMatchObject({ ok: false, firstBrokenSeq: 4 });
    await store.close();
  });

  it('stores a registration once and statuses by gate', async () => {
    const store = await open();
    expect(await store.saveRegistration('s1', 'g1', 'r1', { id: 'r1' }, 1)).toBe(true);
    expect(await store.saveRegistration('s1', 'g1', 'r1', { id: 'r1' }, 2)).toBe(false);
    await store.saveStatus('s1', 'g1', { online: true }, 1);
    await store.saveStatus('s1', 'g1', { online: false }, 2);
    expect(await store.statuses()).toEqual([{ gate: 'g1', site: 's1', online: false, status: { online: false }, receivedAt: 2 }]);
    await store.close();
  });

  it('lets one caller claim a stuck gap\'s replay per grace period, and records acks', async () => {
    const store = await open();
    const evs = gateEvents('g7', 5);
    await store.ingest('s1', 'g7', [evs[0]!, evs[4]!], 1_000);
    expect(await store.claimReplay('g7', 1, 10_000, 5_000)).toBe(true);
    expect(await store.claimReplay('g7', 1, 12_000, 5_000)).toBe(false); // another collector, inside the grace
    expect(await store.claimReplay('g7', 0, 20_000, 5_000)).toBe(false); // stale view of the prefix
    expect(await store.claimReplay('g7', 1, 15_001, 5_000)).toBe(true);
    await store.recordAck('g7', 1);
    await store.close();
  });
});

describe('collector store on postgres: two collectors, one gate', () => {
  it('ingesting interleaved batches of one gate at once never skips, repeats or races the chain', async () => {
    const url = await postgres.createDatabase('race');
    const a = await PgCentralStore.open(url, { poolSize: 4 });
    const b = await PgCentralStore.open(url, { poolSize: 4 });
    try {
      const evs = gateEvents('g9', 600);
      // Batches of 10, each sent to both stores (a redelivery), in a shuffled order.
      const batches = Array.from({ length: 60 }, (_, i) => evs.slice(i * 10, i * 10 + 10));
      const order = batches.map((_, i) => i).sort((x, y) => ((x * 7919) % 61) - ((y * 7919) % 61));
      const results = await Promise.all(order.flatMap((i) => [a.ingest('s1', 'g9', batches[i]!, 1), b.ingest('s1', 'g9', batches[i]!, 1)]));
      expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(600);
      expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(600);
      expect(results.reduce((n, r) => n + r.conflicts, 0)).toBe(0);
      // Each result's contiguous seq is what the database held at its commit: the largest is the end.
      expect(Math.max(...results.map((r) => r.state.contiguousSeq))).toBe(600);
      expect(await b.state('g9')).toMatchObject({ contiguousSeq: 600, verifiedSeq: 600, maxSeq: 600 });
      expect((await a.state('g9'))!.brokenSeq).toBeUndefined();
      expect(await a.anomalies('g9')).toEqual([]);
      expect(await a.verifyAll()).toMatchObject([{ gate: 'g9', result: { ok: true, checked: 600 } }]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('ingestMany: overlapping sets of gates from two stores at once, every chain whole, no deadlock', async () => {
    const url = await postgres.createDatabase('many');
    const a = await PgCentralStore.open(url, { poolSize: 4 });
    const b = await PgCentralStore.open(url, { poolSize: 4 });
    try {
      const gates = ['m1', 'm2', 'm3', 'm4', 'm5'];
      const evs = new Map(gates.map((g) => [g, gateEvents(g, 100)]));
      // Groups of batches for several gates (in varying gate order), each group given to both stores.
      const groups = Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? [...gates].reverse() : gates).slice(i % 3).map((g) => ({ site: 's1', gate: g, events: evs.get(g)!.slice(i * 5, i * 5 + 5) })),
      );
      for (const g of gates) groups.push([{ site: 's1', gate: g, events: evs.get(g)! }]); // the gates resend everything once
      await Promise.all(groups.flatMap((grp) => [a.ingestMany(grp, 1), b.ingestMany(grp, 1)]));
      for (const g of gates) expect(await a.state(g), g).toMatchObject({ contiguousSeq: 100, verifiedSeq: 100, maxSeq: 100 });
      expect((await b.verifyAll()).map((v) => [v.gate, v.result.ok, v.result.checked])).toEqual(gates.map((g) => [g, true, 100]));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('adopts a purge checkpoint like the SQLite store', async () => {
    const pre = openStore({ path: ':memory:', synchronous: 'normal', gateId: 'g2' });
    const evs = Array.from({ length: 5 }, () => pre.journal.append({ type: 'startup' }, Date.now()));
    pre.close();
    const store = await PgCentralStore.open(await postgres.createDatabase('adopt'));
    try {
      await store.ingest('s1', 'g2', evs.slice(3), Date.now());
      expect(await store.adoptCheckpoint('s1', 'g2', 3, evs[2]!.hash, Date.now())).toBe(true);
      expect(await store.state('g2')).toMatchObject({ contiguousSeq: 5, verifiedSeq: 5 });
      expect(await store.adoptCheckpoint('s1', 'g2', 2, evs[1]!.hash, Date.now())).toBe(false);
      expect((await store.anomalies('g2')).map((x) => x.kind)).toEqual(['purged_before_collected']);
    } finally {
      await store.close();
    }
  });

  it('gatectl journal verify --db postgres://… names a tampered event; readers refuse a non-collector database', async () => {
    const url = await postgres.createDatabase('verify');
    const store = await PgCentralStore.open(url);
    await store.ingest('s1', 'a', gateEvents('a', 4), 1);
    await store.ingest('s1', 'b', gateEvents('b', 3), 1);
    await store.close();
    let r = await gatectl(['journal', 'verify', '--db', url]);
    expect(r).toMatchObject({ code: 0, out: 'a: ok: 4 events verified\nb: ok: 3 events verified\n' });
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`UPDATE central_events SET body = replace(body, '"in"', '"out"') WHERE gate = 'b' AND seq = 2`);
    await c.end();
    r = await gatectl(['journal', 'verify', '--db', url]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/b: broken at seq 2: hash mismatch/);

    const other = await postgres.createDatabase('other_app');
    const o = new pg.Client({ connectionString: other });
    await o.connect();
    await o.query('CREATE TABLE customers (id int)');
    await o.end();
    r = await gatectl(['journal', 'verify', '--db', other]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not a collector store/);
    const logs = await gatectl(['logs', '--gate', 'a', '--db', other]);
    expect(logs.code).toBe(1);
    await expect(PgCentralStore.open(other)).rejects.toMatchObject({ code: 'NOT_A_CENTRAL_DB' });
    tmp = tempDir();
    await gatectl(['keygen', '--kid', 'c1', '--out', tmp.dir]);
    const run = await gatectl(['central', '--db', other.replace('postgres@', 'postgres:secret@'), '--url', 'mqtt://127.0.0.1:1', '--key-file', join(tmp.dir, 'c1.key.pem')]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/--db postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/other_app: database holds other tables/);
    expect(run.err).not.toContain('secret');
  });
});

describe('CentralStore (SQLite file)', () => {
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
});

describe('CentralStore on the wrong file', () => {
  it('refuses a gate database (never adds its tables to it) and, for readers, a missing file', () => {
    const { dir } = (tmp = tempDir());
    const gatePath = join(dir, 'gate.db');
    openStore({ path: gatePath, synchronous: 'normal', gateId: 'g1' }).close();
    expect(() => new CentralStore(gatePath)).toThrow(expect.objectContaining({ code: 'NOT_A_CENTRAL_DB' }));
    const db = new Database(gatePath, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name LIKE 'central_%'").pluck().get()).toBe(0);
    db.close();
    expect(() => new CentralStore(join(dir, 'none.db'), { mustExist: true })).toThrow();
  });
});

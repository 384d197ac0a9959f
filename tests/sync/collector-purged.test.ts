/**
 * A collector whose database lacks events the gate has already purged (a
 * new or restored central database): the gate's status names its journal
 * checkpoint, the collector records the loss and resumes the chain from it,
 * then fills the rest by replay. Without it the collector waited forever
 * for seq 1, never acked, and the gate's outbox grew without end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../src/cli/central/collector.js';
import { silentLogger } from '../../src/log.js';
import { CentralStore } from '../../src/store/central/central.js';
import { openCollectorStore, type CollectorStore, type GateChainState } from '../../src/store/central/collector-store.js';
import { openStore } from '../../src/store/index.js';
import { Outbox } from '../../src/store/outbox.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { centralKey, waitFor } from './support/central.js';
import { startGate, type GateHarness } from './support/harness.js';

let broker: Mosquitto;
let postgres: Postgres;
const dirs: string[] = [];
beforeAll(async () => {
  [broker, postgres] = await Promise.all([startMosquitto(), startPostgres()]);
});
afterAll(async () => {
  await broker?.stop();
  await postgres?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Poll an async condition (bounded). */
async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stores: Array<[string, (dir: string) => Promise<CollectorStore>]> = [
  ['sqlite', (dir) => openCollectorStore(join(dir, 'central.db'))],
  ['postgres', async () => openCollectorStore(await postgres.createDatabase('purged'))],
];

describe.each(stores)('on %s', (_kind, openCentral) => {
it('a collector missing events the gate purged resumes from the gate checkpoint, replays the rest, and the outbox drains', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gc-purged-'));
  dirs.push(dir);
  // The gate's past: 100 events, all acked by an earlier central, 1..60 purged by retention.
  const pre = openStore({ path: join(dir, 'gate.db'), synchronous: 'normal', gateId: 'g1' });
  for (let i = 0; i < 100; i++) {
    pre.journal.append({ type: 'access', reader: 'entry', direction: 'in', credential: 'card:****0001', granted: true, reason: 'GRANTED' }, Date.now());
  }
  new Outbox(pre.db, pre.journal).ack(100, Date.now());
  pre.journal.purgeUpTo(60);
  const checkpoint = pre.journal.checkpoint()!;
  pre.close();

  const store = await openCentral(dir);
  const collector = new Collector({
    store, broker: { url: broker.url, clientId: 'purged-central' }, signer: { kid: 'k1', key: centralKey }, log: silentLogger(), gapGraceMs: 500,
  });
  await collector.start();
  let h: GateHarness | undefined;
  try {
    h = await startGate(broker.url, {}, { dir });
    h.gate.record({ type: 'startup' }); // seq 101: sent, since 1..100 are acked
    const last = () => h!.store.journal.lastSeq();
    await until('the collector to hold every event the gate still has', async () => {
      const st: GateChainState | undefined = await store.state('g1');
      return st !== undefined && st.contiguousSeq === last() && st.verifiedSeq === last();
    }, 20_000);
    await waitFor('the outbox to drain', () => h!.sync.outbox.state().pending === 0, 10_000);
    // The acked seq is bookkeeping written after the ack is sent (batched on PostgreSQL).
    await until('the ack to be recorded', async () => (await store.state('g1'))!.ackedSeq === last(), 5_000);
    const st = (await store.state('g1'))!;
    expect(st.brokenSeq).toBeUndefined();
    // 61..100 came back by replay (acked long ago, still in the gate's journal); nothing below the checkpoint.
    const stored = (await store.events('g1', 1, Number.MAX_SAFE_INTEGER, 1_000)).map((e) => e.seq);
    expect(stored[0]).toBe(61);
    expect(stored).toEqual(Array.from({ length: last() - 60 }, (_, i) => 61 + i));
    const anomalies = await store.anomalies('g1');
    expect(anomalies).toMatchObject([{ seq: 60, kind: 'purged_before_collected' }]);
    expect(anomalies[0]!.detail).toContain('1..60');
    // The chain was checked from the gate's checkpoint hash on.
    expect((await store.events('g1', 61, 61, 1))[0]!.prevHash).toBe(checkpoint.hash);
  } finally {
    await h?.stop();
    await collector.stop();
    await store.close();
  }
}, 40_000);
});

it('adoptCheckpoint: a forged checkpoint hash breaks the chain at the next event instead of passing it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gc-purged-'));
  dirs.push(dir);
  const pre = openStore({ path: ':memory:', synchronous: 'normal', gateId: 'g2' });
  const evs = Array.from({ length: 5 }, () => pre.journal.append({ type: 'startup' }, Date.now()));
  pre.close();
  const store = new CentralStore(join(dir, 'c.db'));
  try {
    store.ingest('s1', 'g2', evs.slice(3), Date.now()); // 4 and 5 only
    expect(store.state('g2')).toMatchObject({ contiguousSeq: 0, maxSeq: 5 });
    expect(store.adoptCheckpoint('s1', 'g2', 3, 'a'.repeat(64), Date.now())).toBe(true);
    expect(store.state('g2')).toMatchObject({ contiguousSeq: 5, verifiedSeq: 3, brokenSeq: 4 });
    expect(store.adoptCheckpoint('s1', 'g2', 2, evs[1]!.hash, Date.now())).toBe(false); // behind: nothing moves
  } finally {
    store.close();
  }
  const good = new CentralStore(join(dir, 'c2.db'));
  try {
    good.ingest('s1', 'g2', evs.slice(3), Date.now());
    expect(good.adoptCheckpoint('s1', 'g2', 3, evs[2]!.hash, Date.now())).toBe(true);
    expect(good.state('g2')).toMatchObject({ contiguousSeq: 5, verifiedSeq: 5 });
    expect(good.state('g2')!.brokenSeq).toBeUndefined();
  } finally {
    good.close();
  }
});

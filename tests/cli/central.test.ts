import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/gatectl.js';
import { Collector } from '../../src/cli/central/collector.js';
import { createLogger } from '../../src/log.js';
import { openCollectorStore, type CollectorStore } from '../../src/store/central/collector-store.js';
import { openStore, type JournalEvent } from '../../src/store/index.js';
import { loadPrivateKey, loadPublicKey } from '../../src/sync/protocol/keys.js';
import { gateTopics } from '../../src/sync/protocol/topics.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { gatectl, tempDir } from './capture.js';
import { opened, Wire } from './wire.js';
import { until } from '../helpers/until.js';

let broker: Mosquitto;
const tmp = tempDir();
let keyFile: string;
let pub: ReturnType<typeof loadPublicKey>;
let postgres: Postgres;

beforeAll(async () => {
  [broker, postgres] = await Promise.all([startMosquitto(), startPostgres()]);
  await gatectl(['keygen', '--kid', 'c1', '--out', tmp.dir]);
  keyFile = join(tmp.dir, 'c1.key.pem');
  pub = loadPublicKey(readFileSync(join(tmp.dir, 'c1.pub.pem'), 'utf8'));
});
afterAll(async () => {
  await broker?.stop();
  await postgres?.stop();
  tmp.cleanup();
});

/** Every test below runs once on a SQLite file and once on a PostgreSQL database. */
const stores: Array<[string, (name: string) => Promise<string>]> = [
  ['sqlite', async (name) => join(tmp.dir, `${name}.db`)],
  ['postgres', async (name) => postgres.createDatabase(name)],
];

function journalOf(gate: string, n: number): JournalEvent[] {
  const s = openStore({ path: ':memory:', synchronous: 'normal', gateId: gate });
  const out: JournalEvent[] = [];
  for (let i = 0; i < n; i++) {
    out.push(s.journal.append({ type: 'access', reader: 'entry', direction: 'in', credential: 'card:****0001', personId: `p${i}`, granted: true, reason: 'GRANTED' }, Date.parse('2026-11-23T08:00:00Z') + i * 60_000));
  }
  s.close();
  return out;
}

/** `gatectl central` running in this process until the returned stop() is called. */
function runCentral(db: string, ...more: string[]) {
  const abort = new AbortController();
  const err: string[] = [];
  const done = main(['central', '--db', db, '--url', broker.url, '--key-file', keyFile, '--log-level', 'warn', ...more], {
    out: () => {},
    err: (t) => void err.push(t),
    signal: abort.signal,
  });
  return {
    err,
    ready: async () => {
      await until(() => err.some((l) => l.includes('collector running')), { what: 'the collector to start', timeoutMs: 10_000, diag: () => err.join('') });
    },
    stop: async () => {
      abort.abort();
      return done;
    },
  };
}

const acks = (w: Wire, topic: string) => w.seen.filter((m) => m.topic === topic).map((m) => opened<{ upTo: number }>(m.payload, 'c1', pub).body.upTo);

describe.each(stores)('on %s', (_kind, dbFor) => {
describe('gatectl central', () => {
  it('stores events once, acks the contiguous prefix (signed), asks for a stuck gap, ingests registrations and statuses', async () => {
    const db = await dbFor('c1');
    const central = runCentral(db, '--gap-grace', '1');
    await central.ready();
    const t = gateTopics('s1', 'g1');
    const gate = await Wire.connect(broker.url);
    try {
      await gate.sub(t.eventsAck, t.cmd, t.registrationsAck);
      const evs = journalOf('g1', 10);
      await gate.client.publishAsync(t.events, JSON.stringify(evs.slice(0, 5)), { qos: 1 });
      await gate.waitFor((m) => m.topic === t.eventsAck);
      expect(acks(gate, t.eventsAck)).toEqual([5]);

      await gate.client.publishAsync(t.events, JSON.stringify(evs.slice(7)), { qos: 1 });
      const replay = await gate.waitFor((m) => m.topic === t.cmd, 8_000);
      expect(opened(replay.payload, 'c1', pub).body).toMatchObject({ type: 'replay', fromSeq: 6, toSeq: 7 });
      expect(acks(gate, t.eventsAck)).toEqual([5, 5]);

      await gate.client.publishAsync(t.events, JSON.stringify(evs.slice(5, 7)), { qos: 1 });
      await gate.waitFor((m) => m.topic === t.eventsAck && opened<{ upTo: number }>(m.payload, 'c1', pub).body.upTo === 10);
      // A gate that missed the ack resends: stored once, acked again.
      gate.seen.length = 0;
      await gate.client.publishAsync(t.events, JSON.stringify(evs), { qos: 1 });
      await gate.waitFor((m) => m.topic === t.eventsAck);
      expect(acks(gate, t.eventsAck)).toEqual([10]);

      // Not a batch of this gate's events: stored nowhere, not acked.
      gate.seen.length = 0;
      await gate.client.publishAsync(t.events, JSON.stringify(journalOf('other', 1)), { qos: 1 });
      await gate.client.publishAsync(t.events, 'not json', { qos: 1 });
      // An event id no database stores as is (NUL; a lone surrogate): refused as a bad payload, nothing stored.
      const next = journalOf('g1', 11)[10]!;
      await gate.client.publishAsync(t.events, JSON.stringify([{ ...next, id: 'x\u0000y' }]), { qos: 1 });
      await gate.client.publishAsync(t.events, JSON.stringify([{ ...next, id: 'x\ud800y' }]), { qos: 1 });

      const reg = {
        id: 'r-1',
        person: { id: 'v9', kind: 'visitor', name: 'Chen Jie', phone: '13800000000', organisation: 'ACME', purpose: 'audit', host: 'Zhang' },
        credential: { key: 'card:0A0B0C0E', personId: 'v9', status: 'active' },
        registeredAt: '2026-11-23T09:00:00.000+08:00',
        operator: 'guard1',
      };
      await gate.client.publishAsync(t.registrations, JSON.stringify(reg), { qos: 1 });
      const rAck = await gate.waitFor((m) => m.topic === t.registrationsAck);
      expect(opened(rAck.payload, 'c1', pub).body).toEqual({ id: 'r-1' });
      const status = {
        gate: 'g1', site: 's1', online: true, mode: 'normal', version: '0.1.0', startedAt: '2026-11-23T08:00:00.000+08:00',
        ts: '2026-11-23T09:00:00.000+08:00', whitelistVersion: 3, outbox: { pending: 0, oldestSeq: null }, readers: [], clockSynced: true, passKey: 'x',
      };
      await gate.client.publishAsync(t.status, JSON.stringify(status), { qos: 1, retain: true });
      await new Promise((r) => setTimeout(r, 500));
      expect(acks(gate, t.eventsAck)).toEqual([]);
    } finally {
      await gate.close();
      expect(await central.stop()).toBe(0);
    }
    const store = await openCollectorStore(db);
    expect(await store.state('g1')).toMatchObject({ contiguousSeq: 10, verifiedSeq: 10, ackedSeq: 10, maxSeq: 10 });
    expect(await store.state('other')).toBeUndefined();
    expect((await store.anomalies('g1')).map((a) => a.kind)).toEqual(['bad_payload', 'bad_payload', 'bad_payload', 'bad_payload']);
    expect((await store.anomalies('g1')).filter((a) => a.detail === 'events: an event id is not storable text (NUL or a lone surrogate)')).toHaveLength(2);
    expect(await store.statuses()).toMatchObject([{ gate: 'g1', online: true, status: { whitelistVersion: 3 } }]);
    await store.close();

    // gatectl logs: every event, in order, as CSV; --since cuts the start.
    const csv = await gatectl(['logs', '--gate', 'g1', '--db', db, '--format', 'csv']);
    expect(csv.code).toBe(0);
    const lines = csv.out.trim().split('\n');
    expect(lines[0]).toBe('seq,id,ts,gate,type,reader,direction,credential,personId,granted,reason,prevHash,hash,details');
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const since = await gatectl(['logs', '--gate', 'g1', '--db', db, '--since', '2026-11-23T08:07:00Z']);
    expect(since.out.trim().split('\n').map((l) => (JSON.parse(l) as JournalEvent).seq)).toEqual([8, 9, 10]);
  });

  it('logs names the gaps it cannot fill and stops printing at the first one', async () => {
    const db = await dbFor('gaps');
    const store = await openCollectorStore(db);
    const evs = journalOf('g3', 9);
    await store.ingest('s1', 'g3', [...evs.slice(0, 3), ...evs.slice(4, 6), evs[8]!], 1);
    await store.close();
    const r = await gatectl(['logs', '--gate', 'g3', '--db', db]);
    expect(r.code).toBe(4);
    expect(r.out.trim().split('\n')).toHaveLength(3);
    expect(r.err).toMatch(/gate g3: missing seq 4, 7-8/);
    const unknown = await gatectl(['logs', '--gate', 'nope', '--db', db]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no events from gate nope/);
  });

  it('logs --url asks the gate to replay what the store lacks, then prints it all', async () => {
    const db = await dbFor('replay');
    const central = runCentral(db, '--gap-grace', '60');
    await central.ready();
    const t = gateTopics('s1', 'g4');
    const evs = journalOf('g4', 8);
    const gate = await Wire.connect(broker.url);
    try {
      await gate.sub(t.cmd, t.eventsAck);
      await gate.client.publishAsync(t.events, JSON.stringify(evs.slice(0, 3)), { qos: 1 });
      await gate.waitFor((m) => m.topic === t.eventsAck);
      // The gate answers a replay as protocol v1 says: resend from fromSeq, then the result.
      gate.client.on('message', (topic, payload, packet) => {
        if (topic !== t.cmd) return;
        const c = opened<{ id: string; type: string; fromSeq: number }>(payload, 'c1', pub).body;
        if (c.type !== 'replay') return;
        void (async () => {
          await gate.client.publishAsync(t.events, JSON.stringify(evs.filter((e) => e.seq >= c.fromSeq)), { qos: 1 });
          await gate.client.publishAsync(packet.properties!.responseTopic!, JSON.stringify({ id: c.id, ok: true, result: { fromSeq: c.fromSeq, toSeq: 8 } }), {
            qos: 1,
            properties: { correlationData: packet.properties!.correlationData! },
          });
        })();
      });
      const r = await gatectl(['logs', '--gate', 'g4', '--db', db, '--url', broker.url, '--key-file', keyFile, '--wait', '10']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out.trim().split('\n').map((l) => (JSON.parse(l) as JournalEvent).seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(r.out.trim().split('\n').map((l) => JSON.parse(l) as JournalEvent)).toEqual(evs);
    } finally {
      await gate.close();
      await central.stop();
    }
  });
});

describe('alerts', () => {
  it('stores an alert sent ahead of its backlog and acks only once the backlog fills the gap', async () => {
    const db = await dbFor('alerts');
    const central = runCentral(db, '--gap-grace', '60');
    await central.ready();
    const t = gateTopics('s1', 'g6');
    const evs = journalOf('g6', 5);
    const gate = await Wire.connect(broker.url);
    try {
      await gate.sub(t.eventsAck);
      await gate.client.publishAsync(t.alerts, JSON.stringify(evs[4]), { qos: 1 });
      await new Promise((r) => setTimeout(r, 500));
      expect(acks(gate, t.eventsAck)).toEqual([]); // nothing contiguous from seq 1 yet
      await gate.client.publishAsync(t.events, JSON.stringify(evs.slice(0, 4)), { qos: 1 });
      await gate.waitFor((m) => m.topic === t.eventsAck && opened<{ upTo: number }>(m.payload, 'c1', pub).body.upTo === 5);
      expect(acks(gate, t.eventsAck).every((u) => u === 5)).toBe(true);
    } finally {
      await gate.close();
      await central.stop();
    }
    const store = await openCollectorStore(db);
    expect((await store.events('g6', 1)).map((e) => e.hash)).toEqual(evs.map((e) => e.hash));
    await store.close();
  });
});

describe('two collectors in one shared-subscription group', () => {
  it('share the feed and one database: every event stored once, acks reach the end', async () => {
    const db = await dbFor('shared');
    const signer = { kid: 'c1', key: loadPrivateKey(readFileSync(keyFile, 'utf8')) };
    const handled = [0, 0];
    const collectors = [0, 1].map((i) => {
      const log = createLogger({
        level: 'debug',
        destination: { write: (line: string) => void (line.includes('events stored') && handled[i]!++) },
      });
      return { store: undefined as unknown as CollectorStore, c: undefined as Collector | undefined, log };
    });
    for (const [i, x] of collectors.entries()) {
      x.store = await openCollectorStore(db);
      x.c = new Collector({ store: x.store, broker: { url: broker.url, clientId: `shared-${i}` }, signer, log: x.log, group: 'g', gapGraceMs: 60_000 });
      await x.c.start();
    }
    const t = gateTopics('s2', 'g5');
    const gate = await Wire.connect(broker.url);
    try {
      await gate.sub(t.eventsAck);
      const evs = journalOf('g5', 200);
      for (let i = 0; i < 200; i += 10) await gate.client.publishAsync(t.events, JSON.stringify(evs.slice(i, i + 10)), { qos: 1 });
      await gate.waitFor((m) => m.topic === t.eventsAck && opened<{ upTo: number }>(m.payload, 'c1', pub).body.upTo === 200, 15_000);
    } finally {
      await gate.close();
      for (const x of collectors) await x.c!.stop();
    }
    expect(handled[0]! + handled[1]!).toBe(20);
    expect(handled[0]).toBeGreaterThan(0);
    expect(handled[1]).toBeGreaterThan(0);
    const st = (await collectors[0]!.store.state('g5'))!;
    expect(st).toMatchObject({ contiguousSeq: 200, verifiedSeq: 200, maxSeq: 200 });
    expect(await collectors[0]!.store.events('g5', 1, 200, 1000)).toHaveLength(200);
    for (const x of collectors) await x.store.close();
  });

  it('ask a gate once, not once each, to replay a gap that stopped moving', async () => {
    const db = await dbFor('shared_gap');
    const signer = { kid: 'c1', key: loadPrivateKey(readFileSync(keyFile, 'utf8')) };
    const stores = [await openCollectorStore(db), await openCollectorStore(db)];
    const collectors = stores.map(
      (store, i) => new Collector({ store, broker: { url: broker.url, clientId: `gap-${i}` }, signer, log: createLogger({ level: 'silent' }), group: 'gapgroup', gapGraceMs: 2_000 }),
    );
    for (const c of collectors) await c.start();
    const t = gateTopics('s2', 'g8');
    const gate = await Wire.connect(broker.url);
    try {
      await gate.sub(t.eventsAck, t.cmd);
      const evs = journalOf('g8', 10);
      // Both collectors receive one batch each with the gap 4..6 between them.
      await gate.client.publishAsync(t.events, JSON.stringify(evs.slice(0, 3)), { qos: 1 });
      await gate.client.publishAsync(t.events, JSON.stringify(evs.slice(6)), { qos: 1 });
      await gate.client.publishAsync(t.events, JSON.stringify(evs.slice(6)), { qos: 1 });
      const first = await gate.waitFor((m) => m.topic === t.cmd, 10_000);
      expect(opened(first.payload, 'c1', pub).body).toMatchObject({ type: 'replay', fromSeq: 4, toSeq: 6 });
      const at = Date.now();
      // Both collectors look every second; within the grace no second request may come.
      await new Promise((r) => setTimeout(r, 1_500));
      const asked = gate.seen.filter((m) => m.topic === t.cmd);
      if (Date.now() - at < 2_000) expect(asked).toHaveLength(1);
      // The gate answers; both collectors ack the end.
      await gate.client.publishAsync(t.events, JSON.stringify(evs.slice(3, 6)), { qos: 1 });
      await gate.waitFor((m) => m.topic === t.eventsAck && opened<{ upTo: number }>(m.payload, 'c1', pub).body.upTo === 10, 10_000);
    } finally {
      await gate.close();
      for (const c of collectors) await c.stop();
    }
    expect(await stores[0]!.state('g8')).toMatchObject({ contiguousSeq: 10, verifiedSeq: 10 });
    for (const s of stores) await s.close();
  });
});
});

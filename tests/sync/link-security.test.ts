/**
 * The MQTT link under a hostile publisher, on a real mosquitto:
 * - every chunk subscription a fetch makes is released when the fetch is
 *   replaced, after a reconnect, and after a restart mid-fetch (read from the
 *   broker: its subscribe/unsubscribe log and $SYS/broker/subscriptions/count);
 * - an over-ack while events are unpublished loses none, and is journaled;
 * - a forged command flood journals ≤ 10 rejections in any minute and writes
 *   and answers a bounded number of lines and cmd/results.
 */
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startGate, type GateHarness } from './support/harness.js';
import { centralKey, cmd, otherKey, TestCentral, waitFor } from './support/central.js';
import { startProxy } from './support/proxy.js';
import { buildSnapshot } from '../../src/sync/protocol/snapshot.js';
import { envelopeBytes, signEnvelope } from '../../src/sync/protocol/envelope.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, silentLogger } from '../../src/log.js';
import { openStore } from '../../src/store/index.js';
import { Rejections } from '../../src/sync/inbound.js';
import { TestGate } from './support/test-gate.js';

let broker: Mosquitto;

beforeAll(async () => {
  // max_queued_messages: the whole flood reaches the gate instead of being cut by the broker's queue.
  broker = await startMosquitto({ extra: ['log_type subscribe', 'log_type unsubscribe', 'sys_interval 1', 'max_queued_messages 20000'] });
});
afterAll(async () => broker?.stop());

/**
 * The chunk topics a client holds according to the broker's own log:
 * mosquitto logs "<client> <qos> <filter>" for each filter it subscribes and
 * "<client> <filter>" for each it unsubscribes (log_type subscribe/unsubscribe).
 */
function chunkSubscriptions(clientId: string): string[] {
  const subs = new Set<string>();
  for (const line of broker.log().split('\n')) {
    const m = /^\d+: (\S+) (?:(\d) )?(gate\/v1\/s1\/whitelist\/chunk\/\S+)$/.exec(line);
    if (!m || m[1] !== clientId) continue;
    if (m[2] !== undefined) subs.add(m[3]!);
    else subs.delete(m[3]!);
  }
  return [...subs].sort();
}

/** $SYS/broker/subscriptions/count, as the broker publishes it (every sys_interval). */
async function sysSubscriptionCount(): Promise<{ latest(): number | undefined; updates(): number; close(): Promise<void> }> {
  const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `sys-${process.pid}` });
  let latest: number | undefined;
  let updates = 0;
  c.on('message', (_t, p) => {
    latest = Number(p.toString());
    updates++;
  });
  await c.subscribeAsync('$SYS/broker/subscriptions/count', { qos: 0 });
  return { latest: () => latest, updates: () => updates, close: () => c.endAsync(true) };
}

function people(n: number, prefix: string) {
  const ps = Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, kind: 'staff' as const, name: `N${i}` }));
  return { people: ps, credentials: ps.map((p, i) => ({ key: `card:${prefix.toUpperCase()}${i}`, personId: p.id, status: 'active' as const })), schedules: [] };
}

async function publishSnapshot(central: TestCentral, version: number) {
  const snap = buildSnapshot(version, people(3, `v${version}p`), { kid: 'k1', key: centralKey, perChunk: 2 });
  for (const [i, c] of snap.chunks.entries()) await central.publish(central.st.chunk(i), envelopeBytes(c), { retain: true });
  await central.publish(central.st.manifest, envelopeBytes(snap.manifest), { retain: true });
}

/** A signed manifest of 10,000 chunks that are nowhere: the gate subscribes to a window of them and waits. */
async function publishBogusManifest(central: TestCentral, version: number) {
  const body = { version, chunks: 10_000, sha256: 'ab'.repeat(32), createdAt: new Date().toISOString() };
  await central.publish(central.st.manifest, central.signed(body), { retain: true });
}

describe('chunk subscriptions', () => {
  it('are all released when a fetch is replaced, after a reconnect, and after a restart mid-fetch', async () => {
    const central = await TestCentral.connect(broker.url);
    const sys = await sysSubscriptionCount();
    const proxy = await startProxy(broker.port);
    let h: GateHarness | undefined;
    const gateLog: string[] = [];
    const id = 'gate-s1-g1';
    try {
      // (no refetch of a stuck fetch during the test: the window stays put to be counted)
      h = await startGate(proxy.url, {}, { tuning: { refetchMs: 600_000 }, log: createLogger({ level: 'debug', destination: new Writable({ write(c: Buffer, _e, done) { gateLog.push(c.toString()); done(); } }) }) });
      await waitFor('gate online', () => central.status?.online === true);
      // Baseline: the gate's 6 topics, central's 1 and this probe's 1, none of them a chunk
      // (mosquitto publishes the count when it changes, at most every sys_interval).
      const baseline = 6 + 1 + 1;
      await waitFor(`$SYS count ${baseline}`, () => sys.latest() === baseline, 10_000);
      let phase = 'start';
      const subsOf = async (n: number) => {
        try {
          return await waitFor(`${n} chunk subscriptions`, () => chunkSubscriptions(id).length === n && chunkSubscriptions(id));
        } catch (err) {
          throw new Error(`${phase}: ${(err as Error).message}; the broker shows ${chunkSubscriptions(id).length}\n${broker.log().split('\n').filter((l) => !l.includes('whitelist/chunk')).slice(-30).join('\n')}\n${gateLog.slice(-30).join('')}`);
        }
      };
      expect(chunkSubscriptions(id)).toEqual([]);

      // 1. replaced: a bogus 10,000-chunk manifest, then a good snapshot
      phase = 'replaced';
      await publishBogusManifest(central, 5);
      expect((await subsOf(64)).length).toBe(64);
      await waitFor('$SYS count with the window', () => sys.latest() === baseline + 64, 10_000);
      await publishSnapshot(central, 6);
      await waitFor('v6 applied', () => h!.store.whitelist.version() === 6);
      await subsOf(0);

      // 2. reconnect mid-fetch, then a good snapshot
      phase = 'reconnect';
      await publishBogusManifest(central, 7);
      await subsOf(64);
      proxy.cut();
      await waitFor('gate offline (will)', () => central.status?.online === false);
      proxy.restore();
      await waitFor('gate back', () => central.status?.online === true);
      await subsOf(64); // released and made again: the same window, nothing more
      await publishSnapshot(central, 8);
      await waitFor('v8 applied', () => h!.store.whitelist.version() === 8);
      await subsOf(0);

      // 3. restart mid-fetch (the persistent session keeps what the old process subscribed)
      phase = 'restart';
      await publishBogusManifest(central, 9);
      await subsOf(64);
      await h.stop();
      await publishSnapshot(central, 10);
      h = await h.restart();
      await waitFor('v10 applied', () => h!.store.whitelist.version() === 10);
      await subsOf(0);
      // The broker's own count agrees: back to the baseline (the gate's 6 topics, central's, this probe's).
      await waitFor(`$SYS count back to ${baseline}`, () => sys.latest() === baseline, 10_000);
    } finally {
      await h?.dispose();
      for (const t of [central.st.manifest, central.st.chunk(0), central.st.chunk(1)]) await central.publish(t, '', { retain: true });
      await sys.close();
      await central.close();
      await proxy.close();
    }
  }, 90_000);
});

describe('over-ack', () => {
  it('an ack beyond the last published event moves the cursor only to it: no unpublished event is lost', async () => {
    const central = await TestCentral.connect(broker.url);
    // window 1: one event out at a time, the rest of the journal stays unpublished
    const h = await startGate(broker.url, { window: 1, batchSize: 1, ackTimeoutMs: 600_000 });
    try {
      await waitFor('gate online', () => central.status?.online === true);
      const first = h.gate.tap('card:A1').seq;
      for (let i = 0; i < 4; i++) h.gate.tap(`card:A${i + 2}`);
      const last = h.store.journal.lastSeq();
      await waitFor('first batch', () => central.seqs().includes(first));
      expect(central.maxSeq()).toBe(first); // the others are unpublished
      await central.ack(last + 100);
      await waitFor('anomaly journaled', () => h.gate.events('command_rejected').find((e) => e.code === 'ACK_BEYOND_SENT'));
      expect(h.sync.outbox.ackedSeq()).toBe(first);
      expect(h.gate.events('command_rejected').at(-1)).toMatchObject({ topic: 'events/ack', upTo: last + 100, sentUpTo: first });
      // A real collector from here on, acking each event as it comes: every one reaches it,
      // the over-ack dropped none (the anomaly's own event included).
      const end = h.store.journal.lastSeq();
      expect(end).toBe(last + 1);
      for (let s = first + 1; s <= end; s++) {
        const ev = await waitFor(`seq ${s} published`, () => central.batches.flat().find((e) => e.seq === s));
        expect(ev).toEqual(h.store.journal.get(s));
        await central.ack(s);
      }
      await waitFor('outbox empty', () => h.sync.outbox.state().pending === 0);
    } finally {
      await h.dispose();
      await central.close();
    }
  }, 60_000);
});

describe('forged command flood', () => {
  it('10,000 forged commands: ≤ 10 rejections journaled in the minute, bounded log lines and answers', async () => {
    const central = await TestCentral.connect(broker.url);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const log = createLogger({ level: 'info', destination: sink });
    const h = await startGate(broker.url, {}, { log: log.child({ mod: 'test' }) });
    central.autoAck(); // (an unacked journal would add its own periodic resend warnings)
    try {
      await waitFor('gate online', () => central.status?.online === true);
      const lines0 = lines.length;
      const flooder = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'flooder' });
      const forged = envelopeBytes(signEnvelope(cmd('open', { direction: 'in', reason: 'x', operator: 'o' }), 'k1', otherKey));
      const started = Date.now();
      const N = 10_000;
      for (let i = 0; i < N; i += 500) {
        await Promise.all(Array.from({ length: 500 }, (_, k) =>
          flooder.publishAsync(central.gt.cmd, forged, { qos: 1, properties: { correlationData: Buffer.from(`flood-${i + k}`) } })));
      }
      // A good command after the flood on the same topic: once answered, the flood was handled.
      const ok = await central.command(cmd('ping'), { timeoutMs: 60_000 });
      expect(ok).toMatchObject({ ok: true });
      const seconds = (Date.now() - started) / 1000;
      await flooder.endAsync(true);
      const seen = h.sync.rejectionCount();
      expect(seen).toBe(N); // the whole flood reached the gate
      const journaled = h.gate.events('command_rejected');
      // any 60 s of journal: at most 10 (this run is shorter than a minute or checked per window)
      const ts = journaled.map((e) => Date.parse(e.ts));
      for (const t of ts) expect(ts.filter((u) => u >= t && u < t + 60_000).length).toBeLessThanOrEqual(10);
      // (the ping's correlation data is a UUID, which may start with 'f': the flood's carry a prefix no UUID has)
      const answers = central.on(central.gt.cmdResult).filter((r) => r.correlationData?.toString().startsWith('flood-'));
      expect(answers.length).toBeLessThanOrEqual(10 * Math.ceil(seconds / 60));
      const written = lines.slice(lines0);
      const msgs = written.map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(msgs.filter((m) => m === 'central message rejected').length).toBeLessThanOrEqual(10 * Math.ceil(seconds / 60));
      expect(written.length, msgs.join('\n')).toBeLessThanOrEqual(10 * Math.ceil(seconds / 60) + 5);
      expect(h.gate.events('manual_open')).toEqual([]);
      console.log(`flood: ${N} sent, ${seen} reached the gate in ${seconds.toFixed(1)} s; journaled ${journaled.length}, answered ${answers.length}, log lines ${written.length}`);
    } finally {
      await h.dispose();
      await central.close();
    }
  }, 120_000);
});

describe('rejection limit', () => {
  it('holds in any 60 s, not per fixed minute: a burst on each side of a minute boundary gets 10 in all', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gc-rej-'));
    const store = openStore({ path: join(dir, 'gate.db'), synchronous: 'normal', gateId: 'g1' });
    try {
      let now = 1_000_000;
      const gate = new TestGate(store, () => now);
      const r = new Rejections({ gate, log: silentLogger(), clock: () => now });
      const flood = (n: number) => Array.from({ length: n }, () => r.report({ topic: 'cmd', code: 'BAD_SIGNATURE', message: 'x' })).filter(Boolean).length;
      now += 59_000;
      expect(flood(10)).toBe(10); // late in one minute
      now += 2_000;
      expect(flood(10)).toBe(0); // early in the next: still inside 60 s of the first burst
      now += 57_999;
      expect(flood(5)).toBe(0); // 59.999 s after the burst
      now += 1;
      expect(flood(11)).toBe(10); // the burst is a minute old: 10 more
      const ev = gate.events('command_rejected');
      expect(ev).toHaveLength(20);
      expect(ev[10]!.suppressed).toBe(15); // the first admitted after the gap carries what was dropped
      expect(r.count).toBe(36);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The event feed on a real mosquitto: batches in seq order, the window of
 * unacked events, signed acks, resend on timeout and reconnect, alerts first.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startGate, type GateHarness } from './support/harness.js';
import { otherKey, sleep, TestCentral, waitFor } from './support/central.js';
import { startProxy } from './support/proxy.js';

let broker: Mosquitto;
let central: TestCentral;
let h: GateHarness | undefined;

beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.stop();
});
afterEach(async () => {
  await h?.dispose();
  h = undefined;
  await central?.close();
});

function burst(g: GateHarness, n: number): void {
  for (let i = 0; i < n; i++) g.gate.tap(`card:${(i % 50).toString(16).toUpperCase()}`);
}

describe('event feed', () => {
  it('sends a backlog in seq-ordered batches, never more than the window unacked, and drains on acks', async () => {
    central = await TestCentral.connect(broker.url);
    h = await startGate(broker.url, { window: 250, batchSize: 100, ackTimeoutMs: 60_000 });
    burst(h, 1_000);
    await waitFor('first window', () => central.maxSeq() >= 250);
    await sleep(500);
    // startup-free journal: seqs 1..1000; only the window went out
    expect(central.maxSeq()).toBe(250);
    for (const b of central.batches) {
      expect(b.length).toBeLessThanOrEqual(100);
      expect(b.map((e) => e.seq)).toEqual(b.map((_, i) => b[0]!.seq + i));
      expect(b.every((e) => e.gate === 'g1' && typeof e.hash === 'string')).toBe(true);
    }
    expect(h.sync.outbox.state()).toMatchObject({ pending: 1_000, oldestSeq: 1 });
    // ack as central would, each time it has stored a contiguous prefix
    while (h.sync.outbox.ackedSeq() < 1_000) {
      const top = central.maxSeq();
      await central.ack(top);
      await waitFor('ack applied', () => h!.sync.outbox.ackedSeq() >= top);
      await waitFor('next window', () => central.maxSeq() > top || h!.sync.outbox.ackedSeq() >= 1_000);
      expect(central.maxSeq() - h.sync.outbox.ackedSeq()).toBeLessThanOrEqual(250);
    }
    expect(h.sync.outbox.state()).toMatchObject({ pending: 0, oldestSeq: null });
    expect([...new Set(central.seqs())]).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
    await waitFor('status shows the drained outbox', () => (central.status?.outbox as { pending?: number })?.pending === 0);
  }, 60_000);

  it('keeps events until a signed ack covers them: a forged ack changes nothing and is journaled', async () => {
    central = await TestCentral.connect(broker.url);
    h = await startGate(broker.url);
    burst(h, 5);
    await waitFor('events', () => central.maxSeq() >= 5);
    await central.ack(5, otherKey);
    await central.publish(central.gt.eventsAck, JSON.stringify({ upTo: 5 })); // not even an envelope
    await waitFor('rejections journaled', () => h!.gate.events('command_rejected').length >= 2);
    expect(h.sync.outbox.ackedSeq()).toBe(0);
    const rej = h.gate.events('command_rejected').map((e) => [e.topic, e.code]);
    expect(rej).toEqual(expect.arrayContaining([['events/ack', 'BAD_SIGNATURE'], ['events/ack', 'BAD_JSON']]));
    await central.ack(3);
    await waitFor('partial ack', () => h!.sync.outbox.ackedSeq() === 3);
    expect(h.sync.outbox.state().pending).toBe(h.store.journal.lastSeq() - 3);
  }, 30_000);

  it('resends unacked events after ackTimeoutMs', async () => {
    central = await TestCentral.connect(broker.url);
    h = await startGate(broker.url, { ackTimeoutMs: 600 });
    burst(h, 3);
    await waitFor('resent', () => central.seqs().filter((s) => s === 1).length >= 2, 10_000);
    await central.ack(3);
    await waitFor('acked', () => h!.sync.outbox.ackedSeq() === 3);
    const before = central.seqs().length;
    await sleep(1_500);
    expect(central.seqs().length).toBe(before); // nothing more once acked
  }, 30_000);

  it('resends everything unacked on reconnect, and publishes alerts at once ahead of the backlog', async () => {
    const proxy = await startProxy(broker.port);
    try {
      central = await TestCentral.connect(broker.url);
      h = await startGate(proxy.url, { window: 20, batchSize: 10, ackTimeoutMs: 60_000 });
      burst(h, 100);
      await waitFor('window', () => central.maxSeq() === 20);
      // window full: an alert still goes at once
      const alert = h.gate.record({ type: 'tamper', input: 'tamper' });
      await waitFor('alert', () => central.on(central.gt.alerts).length === 1);
      expect(JSON.parse(central.on(central.gt.alerts)[0]!.text)).toMatchObject({ seq: alert.seq, type: 'tamper' });
      expect(central.maxSeq()).toBe(20);
      const firstSends = central.seqs().filter((s) => s === 1).length;
      proxy.cut();
      await waitFor('will', () => central.status?.online === false);
      proxy.restore();
      await waitFor('resent after reconnect', () => central.seqs().filter((s) => s === 1).length > firstSends, 15_000);
      await waitFor('online again', () => central.status?.online === true);
      // drain the rest
      while (h.sync.outbox.ackedSeq() < h.store.journal.lastSeq()) {
        const top = central.maxSeq();
        await central.ack(top);
        await waitFor('progress', () => central.maxSeq() > top || h!.sync.outbox.ackedSeq() >= h!.store.journal.lastSeq());
      }
      expect(new Set(central.seqs()).size).toBe(h.store.journal.lastSeq());
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

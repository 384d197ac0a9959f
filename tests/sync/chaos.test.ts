/**
 * Chaos on the gate side, bounded in time, loopback only: the broker killed
 * and restarted mid-burst, the gate ↔ broker link cut, the collector offline.
 * Each time the collector ends with every event (deduped on seq), the chain
 * verifies over what it stored, and the gate's outbox drains to zero.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startGate, type GateHarness } from './support/harness.js';
import { sleep, TestCentral, waitFor } from './support/central.js';
import { startProxy, type Proxy } from './support/proxy.js';
import { eventBody, verifyRows } from '../../src/store/journal.js';

let broker: Mosquitto | undefined;
let central: TestCentral | undefined;
let h: GateHarness | undefined;
let proxy: Proxy | undefined;

afterEach(async () => {
  await h?.dispose();
  await central?.close();
  await proxy?.close();
  await broker?.stop();
  h = central = proxy = broker = undefined;
});

async function burst(g: GateHarness, n: number, pauseEvery = 200): Promise<void> {
  for (let i = 0; i < n; i++) {
    g.gate.tap(`card:${(i % 97).toString(16).toUpperCase()}`);
    if (i % pauseEvery === pauseEvery - 1) await sleep(5);
  }
}

async function expectComplete(g: GateHarness, c: TestCentral, timeoutMs = 30_000): Promise<void> {
  await waitFor('outbox drained', () => g.sync.outbox.state().pending === 0, timeoutMs);
  const last = g.store.journal.lastSeq();
  expect(c.stored.size).toBe(last);
  const rows = [...c.stored.values()].sort((a, b) => a.seq - b.seq).map((e) => ({ seq: e.seq, hash: e.hash, body: eventBody(e) }));
  expect(verifyRows(rows)).toMatchObject({ ok: true, checked: last });
}

describe('chaos', () => {
  it('broker killed and restarted mid-burst', async () => {
    broker = await startMosquitto({ persistence: true });
    central = await TestCentral.connect(broker.url);
    central.autoAck();
    h = await startGate(broker.url, { window: 500, batchSize: 100, ackTimeoutMs: 1_500 });
    await waitFor('online', () => h!.sync.connected);
    const writing = burst(h, 3_000);
    await waitFor('some delivered', () => central!.stored.size > 300);
    await broker.kill();
    await sleep(1_000);
    await broker.restart();
    await writing;
    await expectComplete(h, central);
  }, 60_000);

  it('link between gate and broker cut for a while mid-burst', async () => {
    broker = await startMosquitto();
    proxy = await startProxy(broker.port);
    central = await TestCentral.connect(broker.url);
    central.autoAck();
    h = await startGate(proxy.url, { window: 400, batchSize: 100, ackTimeoutMs: 1_500 });
    await waitFor('online', () => h!.sync.connected);
    const writing = burst(h, 2_000);
    await waitFor('some delivered', () => central!.stored.size > 200);
    proxy.cut();
    await writing; // decisions go on while the link is down
    await sleep(5_000);
    expect(h.sync.outbox.state().pending).toBeGreaterThan(0);
    proxy.restore();
    await expectComplete(h, central);
  }, 60_000);

  it('collector offline for a while: unacked events are resent until it is back', async () => {
    broker = await startMosquitto();
    central = await TestCentral.connect(broker.url);
    central.autoAck();
    h = await startGate(broker.url, { window: 300, batchSize: 100, ackTimeoutMs: 1_000 });
    await waitFor('online', () => h!.sync.connected);
    await burst(h, 500);
    await waitFor('some delivered', () => central!.stored.size > 100);
    const seen = new Map(central.stored);
    await central.close();
    await burst(h, 1_000);
    await sleep(3_000); // several ack timeouts pass with nobody listening
    central = await TestCentral.connect(broker.url);
    for (const [k, v] of seen) central.stored.set(k, v); // the collector's own database survives
    central.autoAck();
    await expectComplete(h, central);
  }, 60_000);
});

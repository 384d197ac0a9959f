/**
 * Journal retention: only events both older than eventsDays and acked by
 * central go; the chain still verifies from the checkpoint; a gate with
 * old unacked events keeps them and says so in its status.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startGate, type GateHarness } from './support/harness.js';
import { TestCentral, waitFor } from './support/central.js';
import { verifyChain } from '../../src/store/journal.js';

let broker: Mosquitto;
let central: TestCentral;
let h: GateHarness | undefined;
const DAY = 86_400_000;

beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => broker?.stop());
afterEach(async () => {
  await h?.dispose();
  h = undefined;
  await central?.close();
});

describe('journal retention', () => {
  it('purges old events only once acked, keeps the checkpoint, and reports held events in the status', async () => {
    const t0 = Date.now() - 200 * DAY;
    const clock = { now: t0 as number | undefined };
    central = await TestCentral.connect(broker.url);
    h = await startGate(broker.url, { ackTimeoutMs: 60_000 }, { clock, config: { privacy: { idHashKey: '00112233445566778899aabbccddeeff', retention: { eventsDays: 180 } } } });
    for (let i = 0; i < 100; i++) {
      clock.now = t0 + i * 3_600_000; // 100 hours of old events
      h.gate.tap('card:01');
    }
    clock.now = Date.now() - 10 * DAY;
    for (let i = 0; i < 10; i++) h.gate.tap('card:02'); // recent
    clock.now = undefined;
    await waitFor('sent', () => central.maxSeq() === 110);
    await central.ack(60);
    await waitFor('acked', () => h!.sync.outbox.ackedSeq() === 60);

    const r = await h.sync.runRetention();
    expect(r).toEqual({ purged: 60, upToSeq: 60, held: 40 });
    expect(h.store.journal.get(60)).toBeUndefined();
    expect(h.store.journal.get(61)).toBeDefined();
    expect(h.store.journal.checkpoint()).toMatchObject({ seq: 60 });
    expect(verifyChain(h.store.db)).toMatchObject({ ok: true });
    expect(h.gate.events('purge').at(-1)).toMatchObject({ scope: 'retention', upToSeq: 60, count: 60 });
    expect(h.sync.statusMessage()?.outbox).toMatchObject({ retentionHeld: 40, oldestSeq: 61 });

    await central.ack(h.store.journal.lastSeq());
    await waitFor('all acked', () => h!.sync.outbox.state().pending === 0);
    const r2 = await h.sync.runRetention();
    expect(r2).toEqual({ purged: 40, upToSeq: 100, held: 0 });
    expect(h.store.journal.get(101)).toMatchObject({ type: 'access' }); // recent ones stay
    expect(verifyChain(h.store.db)).toMatchObject({ ok: true });
    expect(h.sync.statusMessage()?.outbox.retentionHeld).toBeUndefined();
  }, 30_000);
});

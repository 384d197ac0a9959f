/**
 * Chaos: the central collector is offline for a while; the gate keeps its
 * events (unacked) and central gets all of them once it is back.
 */
import { expect, it } from 'vitest';
import { chaosWorld, expectDrained, pendingOf, sleep, verifyCollectorFile, waitFor } from './harness.js';

const world = chaosWorld('g3');

it('loses nothing while the collector is away', async () => {
  await world.gate.burst(50);
  await waitFor('the first events to be acked', () => (world.central.store!.state('g3')?.contiguousSeq ?? 0) >= 50, 30_000, () => world.gate.log());
  await world.central.stop();
  await world.gate.burst(300);
  await sleep(8_000); // several ack timeouts: the gate resends into the void and keeps everything
  await world.central.start();
  const n = await expectDrained(world.gate, world.central, 90_000, world.broker);
  expect(n).toBeGreaterThanOrEqual(350);
  expect(pendingOf(world.central.store!, 'g3')).toBe(0);
  verifyCollectorFile(world.central.dbPath);
}, 150_000);

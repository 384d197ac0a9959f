/**
 * Chaos: the broker is killed (SIGKILL, no clean shutdown) in the middle of
 * a burst and restarted; the gate keeps deciding and journaling meanwhile.
 */
import { expect, it } from 'vitest';
import { chaosWorld, expectDrained, sleep, verifyCollectorFile } from './harness.js';

const world = chaosWorld('g1');

it('loses nothing when the broker dies mid-burst', async () => {
  const burst = world.gate.burst(400, 8); // ~3.5 s of taps; the broker dies inside it
  await sleep(800);
  await world.broker.kill();
  await sleep(2_000); // taps go on being decided and journaled with no broker
  await world.broker.restart();
  await burst;
  const n = await expectDrained(world.gate, world.central, 90_000, world.broker);
  expect(n).toBeGreaterThanOrEqual(400);
  verifyCollectorFile(world.central.dbPath);
}, 150_000);

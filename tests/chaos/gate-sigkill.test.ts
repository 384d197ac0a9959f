/**
 * Chaos: the gate process is killed with SIGKILL in the middle of a burst
 * and started again on the same database; what it committed before dying
 * reaches central exactly once.
 */
import { expect, it } from 'vitest';
import { chaosWorld, expectDrained, verifyCollectorFile } from './harness.js';

const world = chaosWorld('g2');

it('loses nothing when the gate is SIGKILLed mid-burst', async () => {
  const burst = world.gate.burst(300, 3);
  await new Promise((r) => setTimeout(r, 400));
  await world.gate.stop('SIGKILL');
  await burst;
  const committed = world.gate.lastSeq();
  expect(committed).toBeGreaterThan(0);
  await world.gate.start();
  await world.gate.burst(100);
  const n = await expectDrained(world.gate, world.central, 90_000, world.broker);
  expect(n).toBeGreaterThan(committed);
  verifyCollectorFile(world.central.dbPath);
}, 150_000);

/**
 * Chaos: the gate process is killed with SIGKILL in the middle of a burst
 * and started again on the same database; what it committed before dying
 * reaches central exactly once.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../cli/capture.js';
import { CollectorProcess, expectDrained, GateProcess, requireBuiltDaemon, verifyCollectorFile } from './harness.js';

let broker: Mosquitto;
let gate: GateProcess;
let central: CollectorProcess;
const tmp = tempDir();

beforeAll(async () => {
  requireBuiltDaemon();
  broker = await startMosquitto();
  central = new CollectorProcess(join(tmp.dir, 'central.db'), broker.url);
  await central.start();
  gate = new GateProcess({ dir: join(tmp.dir, 'g2'), gate: 'g2', site: 's1', mqttUrl: broker.url });
  await gate.start();
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await central?.stop();
  await broker?.stop();
  tmp.cleanup();
}, 30_000);

it('loses nothing when the gate is SIGKILLed mid-burst', async () => {
  const burst = gate.burst(300, 3);
  await new Promise((r) => setTimeout(r, 400));
  await gate.stop('SIGKILL');
  await burst;
  const committed = gate.lastSeq();
  expect(committed).toBeGreaterThan(0);
  await gate.start();
  await gate.burst(100);
  const n = await expectDrained(gate, central, 90_000);
  expect(n).toBeGreaterThan(committed);
  verifyCollectorFile(central.dbPath);
}, 150_000);

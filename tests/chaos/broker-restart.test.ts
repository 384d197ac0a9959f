/**
 * Chaos: the broker is killed (SIGKILL, no clean shutdown) in the middle of
 * a burst and restarted; the gate keeps deciding and journaling meanwhile.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../cli/capture.js';
import { CollectorProcess, expectDrained, GateProcess, requireBuiltDaemon, sleep, verifyCollectorFile } from './harness.js';

let broker: Mosquitto;
let gate: GateProcess;
let central: CollectorProcess;
const tmp = tempDir();

beforeAll(async () => {
  requireBuiltDaemon();
  broker = await startMosquitto();
  central = new CollectorProcess(join(tmp.dir, 'central.db'), broker.url);
  await central.start();
  gate = new GateProcess({ dir: join(tmp.dir, 'g1'), gate: 'g1', site: 's1', mqttUrl: broker.url });
  await gate.start();
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await central?.stop();
  await broker?.stop();
  tmp.cleanup();
}, 30_000);

it('loses nothing when the broker dies mid-burst', async () => {
  const burst = gate.burst(400, 8); // ~3.5 s of taps; the broker dies inside it
  await sleep(800);
  await broker.kill();
  await sleep(2_000); // taps go on being decided and journaled with no broker
  await broker.restart();
  await burst;
  const n = await expectDrained(gate, central, 90_000);
  expect(n).toBeGreaterThanOrEqual(400);
  verifyCollectorFile(central.dbPath);
}, 150_000);

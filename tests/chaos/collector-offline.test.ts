/**
 * Chaos: the central collector is offline for a while; the gate keeps its
 * events (unacked) and central gets all of them once it is back.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../cli/capture.js';
import { CollectorProcess, expectDrained, GateProcess, pendingOf, requireBuiltDaemon, sleep, verifyCollectorFile, waitFor } from './harness.js';

let broker: Mosquitto;
let gate: GateProcess;
let central: CollectorProcess;
const tmp = tempDir();

beforeAll(async () => {
  requireBuiltDaemon();
  broker = await startMosquitto();
  central = new CollectorProcess(join(tmp.dir, 'central.db'), broker.url);
  await central.start();
  gate = new GateProcess({ dir: join(tmp.dir, 'g3'), gate: 'g3', site: 's1', mqttUrl: broker.url });
  await gate.start();
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await central?.stop();
  await broker?.stop();
  tmp.cleanup();
}, 30_000);

it('loses nothing while the collector is away', async () => {
  await gate.burst(50);
  await waitFor('the first events to be acked', () => (central.store!.state('g3')?.contiguousSeq ?? 0) >= 50, 30_000, () => gate.log());
  await central.stop();
  await gate.burst(300);
  await sleep(8_000); // several ack timeouts: the gate resends into the void and keeps everything
  await central.start();
  const n = await expectDrained(gate, central, 90_000);
  expect(n).toBeGreaterThanOrEqual(350);
  expect(pendingOf(central.store!, 'g3')).toBe(0);
  verifyCollectorFile(central.dbPath);
}, 150_000);

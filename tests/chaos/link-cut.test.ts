/**
 * Chaos: the link between gate and broker is cut silently (a TCP proxy that
 * stops forwarding without closing anything) for CHAOS_CUT_S seconds
 * (default 60) in the middle of a burst, then restored.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../cli/capture.js';
import { CollectorProcess, CUT_S, expectDrained, GateProcess, requireBuiltDaemon, sleep, verifyCollectorFile } from './harness.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

let broker: Mosquitto;
let proxy: TcpProxy;
let gate: GateProcess;
let central: CollectorProcess;
const tmp = tempDir();

beforeAll(async () => {
  requireBuiltDaemon();
  broker = await startMosquitto();
  proxy = await startTcpProxy(broker.port);
  central = new CollectorProcess(join(tmp.dir, 'central.db'), broker.url);
  await central.start();
  gate = new GateProcess({ dir: join(tmp.dir, 'g4'), gate: 'g4', site: 's1', mqttUrl: `mqtt://127.0.0.1:${proxy.port}` });
  await gate.start();
}, 60_000);

afterAll(async () => {
  await gate?.stop();
  await central?.stop();
  await proxy?.close();
  await broker?.stop();
  tmp.cleanup();
}, 30_000);

it(`loses nothing across a ${CUT_S} s cut between gate and broker`, async () => {
  const burst = gate.burst(300, 10); // the cut falls inside the burst
  await sleep(1_000);
  proxy.cut();
  const before = proxy.connections();
  await burst;
  await sleep(Math.max(0, CUT_S * 1000 - 2_000));
  proxy.restore();
  await gate.burst(100);
  // The backoff of the gate's reconnect is capped at 30 s.
  const n = await expectDrained(gate, central, 120_000);
  expect(n).toBeGreaterThanOrEqual(400);
  expect(proxy.connections()).toBeGreaterThan(before); // it had to reconnect
  verifyCollectorFile(central.dbPath);
}, CUT_S * 1000 + 200_000);

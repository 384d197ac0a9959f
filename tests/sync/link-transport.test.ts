/**
 * The link's transport on a real mosquitto.
 *
 * It hands the gate's event loop back between incoming packets once a slice
 * (1 ms by default) is used. mqtt.js alone handles every packet of one socket
 * read in a nextTick chain: a burst of retained whitelist chunks held timers
 * (taps) for up to 10 ms in bench/sync. Here a burst of retained messages
 * arrives on a real mosquitto; with no slice, no turn of the event loop may
 * handle more than a couple of them (mqtt.js alone: 17–59 in one turn, a
 * whole socket read).
 *
 * It turns Nagle's algorithm off on its socket: mqtt.js leaves it on, and a
 * small packet (a PUBACK, a command result) written behind an unacknowledged
 * one waited for the broker's delayed ACK — bench/sync's delta publish →
 * applied p99 was 41–49 ms with it, 3.8–5.5 ms with Nagle off here, in
 * gatectl and on the broker.
 */
import { Socket } from 'node:net';
import sinon from 'sinon';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { MqttLink } from '../../src/sync/mqtt-link.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from './support/central.js';

let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => broker?.stop());

const N = 200;

function newLink(clientId: string, opts: { handleSliceMs?: number } = {}): MqttLink {
  const config = parseConfig({ gate: { id: 'g1', site: 's1' }, mqtt: { url: broker.url }, privacy: { idHashKey: '00112233445566778899aabbccddeeff' } }).mqtt!;
  return new MqttLink({ config, clientId, ...opts, will: { topic: `will/${clientId}`, payload: Buffer.from('x') }, log: silentLogger() });
}

/** Subscribe a link with this slice to the retained burst; the most messages one turn of the event loop handled. */
async function burst(handleSliceMs: number, clientId: string): Promise<number> {
  const link = newLink(clientId, { handleSliceMs });
  // A probe that runs once per turn of the event loop (its check phase)
  // notes how many messages were handled since its previous run. One
  // message per turn means timers (taps) get their phase between any two.
  let count = 0;
  let lastCount = 0;
  let maxPerTurn = 0;
  const turn = () => {
    maxPerTurn = Math.max(maxPerTurn, count - lastCount);
    lastCount = count;
    if (count < N) setImmediate(turn);
  };
  const seen = new Set<string>();
  link.on('message', (topic) => {
    seen.add(topic);
    if (++count === 1) setImmediate(turn);
  });
  link.start();
  try {
    await waitFor('link up', () => link.connected);
    await link.subscribe(['burst/#']);
    await waitFor('the whole burst', () => count >= N);
    expect(seen.size).toBe(N); // every message, once
    return maxPerTurn;
  } finally {
    await link.stop();
  }
}

it('yields to the event loop between packets once its slice is used', async () => {
  const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  const body = Buffer.alloc(2_000, 'x'); // 200 × 2 kB: several packets in every 64 kB socket read
  for (let i = 0; i < N; i++) await pub.publishAsync(`burst/${i}`, body, { qos: 1, retain: true });
  await pub.endAsync();
  // No slice: one packet per turn.
  expect(await burst(0, 'slice-0')).toBeLessThanOrEqual(2);
  // An endless slice is mqtt.js alone: a whole socket read in one turn (the probe sees it).
  expect(await burst(Infinity, 'slice-inf')).toBeGreaterThan(2);
}, 30_000);

it('turns Nagle off on its socket when it connects', async () => {
  const spy = sinon.spy(Socket.prototype, 'setNoDelay');
  const link = newLink('nodelay-test');
  try {
    link.start();
    await waitFor('link up', () => link.connected);
    const onLink = spy.getCalls().filter((c) => c.args[0] === true && (c.thisValue as Socket).remotePort === Number(new URL(broker.url).port));
    expect(onLink.length).toBeGreaterThan(0);
  } finally {
    spy.restore();
    await link.stop();
  }
}, 30_000);

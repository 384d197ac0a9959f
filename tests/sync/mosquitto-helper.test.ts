import { afterAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';

describe('startMosquitto', () => {
  let broker: Mosquitto | undefined;
  afterAll(async () => broker?.stop());

  it('serves MQTT 5 and keeps retained messages across kill + restart', async () => {
    broker = await startMosquitto();
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    await pub.publishAsync('t/retained', 'hello', { qos: 1, retain: true });
    await pub.endAsync();
    // autosave_interval 1: mosquitto saves on its next loop tick after a change
    await new Promise((r) => setTimeout(r, 2_500));
    await broker.kill();
    await broker.restart();
    const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    const got = new Promise<string>((resolve, reject) => {
      sub.on('message', (_t, p) => resolve(p.toString()));
      setTimeout(() => reject(new Error(`no retained message; broker log:\n${broker?.log()}`)), 5_000);
    });
    await sub.subscribeAsync('t/retained', { qos: 1 });
    expect(await got).toBe('hello');
    await sub.endAsync();
  }, 30_000);
});

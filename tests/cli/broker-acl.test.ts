/**
 * `gatectl broker acl` on a real mosquitto (password_file + the printed
 * acl_file): a gate's account cannot publish to another gate's topics or to
 * central's, cannot read another gate's; only central's account publishes
 * commands, acks and whitelists; and a real gate runs under it unhindered.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateTopics, siteTopics } from '../../src/sync/protocol/topics.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { gatectl, tempDir } from './capture.js';
import { Wire } from './wire.js';
import { startGate, type GateHarness } from '../sync/support/harness.js';
import { cmd, TestCentral, waitFor } from '../sync/support/central.js';

const tmp = tempDir();
let broker: Mosquitto;
let acl: string;
const g1 = gateTopics('s1', 'g1');
const g2 = gateTopics('s1', 'g2');
const s1 = siteTopics('s1');

beforeAll(async () => {
  const r = await gatectl(['broker', 'acl', '--site', 's1', '--gates', 'g1,g2', '--central-user', 'central']);
  expect(r.code).toBe(0);
  acl = r.out;
  writeFileSync(join(tmp.dir, 'gate.acl'), acl);
  writeFileSync(join(tmp.dir, 'passwd'), '');
  for (const [u, pw] of [['central', 'c-pw'], ['g1', 'g1-pw'], ['g2', 'g2-pw']]) {
    execFileSync('mosquitto_passwd', ['-b', join(tmp.dir, 'passwd'), u!, pw!], { timeout: 10_000 });
  }
  broker = await startMosquitto({
    extra: ['allow_anonymous false', `password_file ${join(tmp.dir, 'passwd')}`, `acl_file ${join(tmp.dir, 'gate.acl')}`],
  });
}, 30_000);

afterAll(async () => {
  await broker?.stop();
  tmp.cleanup();
});

/** Publish, ignoring a refusal (mosquitto answers a denied MQTT 5 publish with PUBACK 0x87, or drops it). */
const tryPublish = (w: Wire, topic: string, payload: string, retain = false) =>
  w.client.publishAsync(topic, payload, { qos: 1, retain }).then(() => 'sent', (e: Error) => e.message);

describe('gatectl broker acl', () => {
  it('prints a deny-by-default ACL naming each gate account', () => {
    expect(acl).toContain('user g1\n');
    expect(acl).toContain(`topic write ${g1.events}\n`);
    expect(acl).toContain(`topic read ${s1.chunkWildcard}\n`);
    expect(acl).not.toMatch(/topic (read|write|readwrite) gate\/v1\/s1\/#/);
  });

  it('refuses bad input with a clear error', async () => {
    expect((await gatectl(['broker', 'acl', '--site', 's1', '--gates', 'g1,g/2'])).code).toBe(2);
    expect((await gatectl(['broker', 'acl', '--site', 's1', '--gates', 'g1=central'])).err).toContain('used twice');
    expect((await gatectl(['broker', 'acl', '--site', 's#', '--gates', 'g1'])).code).toBe(2);
  });

  it("a gate's account cannot publish to another gate's or to central's topics, nor read another gate's", async () => {
    const central = await Wire.connect(broker.url, 'central-acl', { username: 'central', password: 'c-pw' });
    const gate1 = await Wire.connect(broker.url, 'gate-s1-g1', { username: 'g1', password: 'g1-pw' });
    const gate2 = await Wire.connect(broker.url, 'gate-s1-g2', { username: 'g2', password: 'g2-pw' });
    try {
      await central.sub('gate/v1/#');
      await gate2.sub(g2.cmd, g2.eventsAck, s1.manifest, s1.delta, s1.chunk(0), s1.cmd);
      // What g1 may not publish: g2's topics, and every central → gate topic.
      const forbidden = [
        g2.events, g2.status, g2.alerts, g2.registrations, g2.cmdResult, g2.cmd, g2.eventsAck,
        g1.cmd, g1.eventsAck, g1.registrationsAck, s1.cmd, s1.manifest, s1.delta, s1.chunk(0),
      ];
      for (const t of forbidden) await tryPublish(gate1, t, `forged by g1 on ${t}`, t === s1.manifest || t === s1.chunk(0));
      // A publish g1 may make, after them on the same connection: once it arrives, the forbidden ones would have.
      await gate1.client.publishAsync(g1.events, 'sentinel', { qos: 1 });
      await central.waitFor((m) => m.topic === g1.events && m.payload.toString() === 'sentinel');
      expect(central.seen.filter((m) => m.payload.toString().startsWith('forged')).map((m) => m.topic)).toEqual([]);
      expect(gate2.seen.map((m) => m.topic)).toEqual([]);
      // g1 cannot read g2's topics: mosquitto 2.0 grants the subscription but delivers nothing the ACL denies.
      await gate1.sub(g2.cmd, 'gate/v1/s1/g2/#', 'gate/v1/+/+/events', 'gate/v1/+/+/status', g1.cmd);
      // Only central publishes commands, acks and whitelists: these reach the gates.
      await central.client.publishAsync(g2.cmd, 'for g2 only', { qos: 1 });
      await central.client.publishAsync(s1.manifest, 'manifest', { qos: 1, retain: true });
      await central.client.publishAsync(g1.cmd, 'for g1', { qos: 1 });
      await gate2.waitFor((m) => m.topic === g2.cmd && m.payload.toString() === 'for g2 only');
      await gate2.waitFor((m) => m.topic === s1.manifest && m.payload.toString() === 'manifest');
      await gate1.waitFor((m) => m.topic === g1.cmd);
      // (the site's manifest it may read; nothing of g2's and no gate's events reach it)
      expect(gate1.seen.map((m) => m.payload.toString()).filter((p) => p !== 'manifest')).toEqual(['for g1']);
      await gate2.client.publishAsync(g2.events, 'g2 event', { qos: 1 });
      await central.waitFor((m) => m.payload.toString() === 'g2 event');
      await gate1.client.publishAsync(g1.status, 'sentinel-status', { qos: 1 });
      await central.waitFor((m) => m.payload.toString() === 'sentinel-status');
      expect(gate1.seen.filter((m) => m.topic.startsWith('gate/v1/s1/g2/') || m.topic.endsWith('/events') || m.topic.endsWith('/status'))).toEqual([]);
      // g2 may not answer for g1 either.
      await tryPublish(gate2, g1.cmdResult, 'forged by g2');
      await gate2.client.publishAsync(g2.cmdResult, 'sentinel2', { qos: 1 });
      await central.waitFor((m) => m.payload.toString() === 'sentinel2');
      expect(central.seen.filter((m) => m.payload.toString() === 'forged by g2')).toEqual([]);
    } finally {
      await central.client.publishAsync(s1.manifest, '', { qos: 1, retain: true }).catch(() => undefined);
      await Promise.all([central.close(), gate1.close(), gate2.close()]);
    }
  }, 30_000);

  it('a real gate runs under its account: status, events, commands and acks all pass', async () => {
    let h: GateHarness | undefined;
    let central: TestCentral | undefined;
    try {
      central = await TestCentral.connect(broker.url, { username: 'central', password: 'c-pw' });
      central.autoAck();
      h = await startGate(broker.url, { username: 'g1', password: 'g1-pw' });
      await waitFor('gate online', () => central!.status?.online === true);
      const c = cmd('ping');
      expect(await central.command(c)).toMatchObject({ id: c.id, ok: true });
      h.gate.tap('card:AA');
      await waitFor('event acked', () => h!.sync.outbox.state().pending === 0 && central!.stored.size > 0);
      expect(broker.log()).not.toMatch(/Denied PUBLISH from gate-s1-g1/);
    } finally {
      await h?.dispose();
      await central?.close();
    }
  }, 30_000);
});

/**
 * The link itself on a real mosquitto: persistent session with a fixed
 * client id, retained status with every DESIGN.md field, last will on a
 * lost link, reconnect, slow retry after an auth refusal, and
 * registrations resent until central's signed ack.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startGate, type GateHarness } from './support/harness.js';
import { otherKey, TestCentral, waitFor } from './support/central.js';
import { startProxy } from './support/proxy.js';
import { statusSchema } from '../../src/sync/protocol/schemas.js';

let broker: Mosquitto;
let central: TestCentral;
let h: GateHarness | undefined;

beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => broker?.stop());
afterEach(async () => {
  await h?.dispose();
  h = undefined;
  await central?.close();
});

describe('link and status', () => {
  it('connects with a fixed client id and a persistent session, publishes a full retained status, and leaves offline', async () => {
    central = await TestCentral.connect(broker.url);
    h = await startGate(broker.url);
    await waitFor('status', () => central.status?.online === true);
    expect(broker.log()).toMatch(/as gate-s1-g1 \(p5, c0, k5\)/); // MQTT 5, clean start 0
    const st = statusSchema.parse(central.status);
    expect(st).toMatchObject({ gate: 'g1', site: 's1', mode: 'normal', version: '0.1.0-test', whitelistVersion: 0, clockSynced: true, readers: [{ id: 'entry', type: 'sim', connected: true }] });
    expect(st.passKey).toContain('PUBLIC KEY');
    // retained: a late subscriber sees it
    const late = await TestCentral.connect(broker.url);
    await waitFor('retained status', () => late.status?.online === true);
    await late.close();
    // updated on change
    h.gate.setMode('lockdown', 'test', { operator: 't', source: 'local' });
    await waitFor('status mode', () => central.status?.mode === 'lockdown');
    await h.stop();
    await waitFor('offline status', () => central.status?.online === false);
    expect(central.status).toEqual({ gate: 'g1', site: 's1', online: false });
  }, 30_000);

  it('publishes its status again every statusIntervalS, not only on changes', async () => {
    central = await TestCentral.connect(broker.url);
    h = await startGate(broker.url, { statusIntervalS: 5 });
    await waitFor('online', () => central.status?.online === true);
    const first = central.statuses.length;
    const t0 = Date.now();
    await waitFor('two periodic statuses', () => central.statuses.length >= first + 2, 15_000);
    // nothing changed in between: these are the timer's, about 5 s apart
    expect(Date.now() - t0).toBeGreaterThanOrEqual(9_000);
    expect(central.statuses.at(-1)).toMatchObject({ gate: 'g1', online: true });
  }, 30_000);

  it('publishes the last will when the link dies and comes back with back-off', async () => {
    const proxy = await startProxy(broker.port);
    try {
      central = await TestCentral.connect(broker.url);
      h = await startGate(proxy.url, { statusIntervalS: 5 });
      await waitFor('online', () => central.status?.online === true);
      proxy.cut();
      await waitFor('will', () => central.status?.online === false);
      expect(central.status).toEqual({ gate: 'g1', site: 's1', online: false });
      const refusedBefore = proxy.refused;
      await waitFor('several refused reconnects', () => proxy.refused >= refusedBefore + 3);
      proxy.restore();
      await waitFor('online again', () => central.status?.online === true, 10_000);
      // decisions went on while offline
      h.gate.tap('card:01');
      await waitFor('event after reconnect', () => central.maxSeq() === h!.store.journal.lastSeq());
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it('logs an auth refusal and keeps retrying slowly (reconnectOnConnackError is false in MQTT.js)', async () => {
    const dir = broker.dir;
    const pw = join(dir, 'passwd');
    writeFileSync(pw, '');
    execFileSync('mosquitto_passwd', ['-b', pw, 'g1', 'right']);
    // allow_anonymous appears twice in the config; mosquitto takes the last value
    const secured = await startMosquitto({ extra: ['allow_anonymous false', `password_file ${pw}`] });
    try {
      h = await startGate(secured.url, { username: 'g1', password: 'wrong' }, { tuning: { authRetryMs: 400 } });
      await waitFor('3 refused attempts', () => (secured.log().match(/not authorised|Bad user name or password/gi) ?? []).length >= 3, 15_000);
      expect(h.sync.connected).toBe(false);
    } finally {
      await h?.dispose();
      h = undefined;
      await secured.stop();
    }
    h = await startGate(broker.url, { username: 'g1', password: 'whatever' });
    await waitFor('anonymous broker accepts', () => h!.sync.connected);
    central = await TestCentral.connect(broker.url);
  }, 30_000);
});

describe('registrations', () => {
  const reg = (id: string) => ({
    id, person: { id: `v-${id}`, kind: 'visitor' as const, name: 'Visitor', phone: '13800000000', organisation: 'ACME', purpose: 'meeting', host: 'Host' },
    credential: { key: `pass:${id}`, personId: `v-${id}`, status: 'active' as const }, registeredAt: '2026-11-23T10:00:00.000+08:00', operator: 'guard1',
  });

  it('publishes queued registrations until central acks each one with a signed ack', async () => {
    central = await TestCentral.connect(broker.url);
    h = await startGate(broker.url, { ackTimeoutMs: 600 });
    await waitFor('online', () => h!.sync.connected);
    h.sync.registrations.add(reg('r1'));
    h.sync.registrations.add(reg('r2'));
    h.gate.record({ type: 'visitor_registered', personId: 'v-r1' });
    await waitFor('both sent', () => central.on(central.gt.registrations).length >= 2);
    expect(JSON.parse(central.on(central.gt.registrations)[0]!.text)).toEqual(reg('r1'));
    await central.publish(central.gt.registrationsAck, central.signed({ id: 'r1' }));
    await central.publish(central.gt.registrationsAck, central.signed({ id: 'r2' }, otherKey)); // forged: ignored
    await waitFor('r1 acked', () => h!.sync.registrations.count() === 1);
    const n = central.on(central.gt.registrations).filter((r) => r.text.includes('"r2"')).length;
    await waitFor('r2 resent', () => central.on(central.gt.registrations).filter((r) => r.text.includes('"r2"')).length > n, 5_000);
    expect(h.gate.events('command_rejected').at(-1)).toMatchObject({ topic: 'registrations/ack', code: 'BAD_SIGNATURE' });
    await central.publish(central.gt.registrationsAck, central.signed({ id: 'r2' }));
    await waitFor('r2 acked', () => h!.sync.registrations.count() === 0);
  }, 30_000);
});

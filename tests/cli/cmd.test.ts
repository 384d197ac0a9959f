import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPublicKey } from '../../src/sync/protocol/keys.js';
import { commandSchema, type CommandMsg } from '../../src/sync/protocol/schemas.js';
import { gateTopics, siteTopics } from '../../src/sync/protocol/topics.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { gatectl, tempDir } from './capture.js';
import { opened, Wire } from './wire.js';

let broker: Mosquitto;
const tmp = tempDir();
let keyFile: string;
let gate: Wire;
const received: CommandMsg[] = [];
const responseTopics: Array<string | undefined> = [];
const t = gateTopics('s1', 'g1');

beforeAll(async () => {
  broker = await startMosquitto();
  await gatectl(['keygen', '--kid', 'c1', '--out', tmp.dir]);
  keyFile = join(tmp.dir, 'c1.key.pem');
  const pub = loadPublicKey(readFileSync(join(tmp.dir, 'c1.pub.pem'), 'utf8'));
  // Gate g1 answers like protocol v1: result on the response topic, correlation data echoed.
  gate = await Wire.connect(broker.url);
  gate.client.on('message', (topic, payload, packet) => {
    if (topic !== t.cmd && topic !== siteTopics('s1').cmd) return;
    responseTopics.push(packet.properties?.responseTopic);
    const reply = (result: object) =>
      void gate.client.publishAsync(t.cmdResult, JSON.stringify(result), { qos: 1, properties: { correlationData: packet.properties!.correlationData! } });
    let body: unknown;
    try {
      body = opened(payload, 'c1', pub).body;
    } catch (e) {
      // As protocol v1 says: an unreadable command is answered with id "".
      return reply({ id: '', ok: false, error: { code: 'UNKNOWN_KID', message: (e as Error).message } });
    }
    const cmd = commandSchema.parse(body);
    received.push(cmd);
    const result =
      cmd.type === 'open' ? { id: cmd.id, ok: false, error: { code: 'LOCKDOWN', message: 'gate is in lockdown' } } : { id: cmd.id, ok: true, result: { type: cmd.type } };
    reply(result);
  });
  await gate.sub(t.cmd);
});
afterAll(async () => {
  await gate?.close();
  await broker?.stop();
  tmp.cleanup();
});

const cmd = (...args: string[]) => gatectl(['cmd', ...args, '--site', 's1', '--url', broker.url, '--key-file', keyFile]);

describe('gatectl cmd', () => {
  it('sends a signed ping with id, issuedAt, expiresAt and prints the gate result', async () => {
    const before = Date.now();
    const r = await cmd('ping', '--gate', 'g1', '--ttl', '30');
    expect(r.code).toBe(0);
    const sent = received.at(-1)!;
    expect(JSON.parse(r.out)).toEqual({ id: sent.id, ok: true, result: { type: 'ping' } });
    expect(Date.parse(sent.issuedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(sent.expiresAt) - Date.parse(sent.issuedAt)).toBe(30_000);
    expect(responseTopics.at(-1)).toBe(t.cmdResult); // MQTT 5 request/response
  });

  it('sends set-mode, replay and purge-person with their fields', async () => {
    expect((await cmd('set-mode', '--gate', 'g1', '--mode', 'lockdown', '--reason', 'drill', '--operator', 'ops1')).code).toBe(0);
    expect(received.at(-1)).toMatchObject({ type: 'set-mode', mode: 'lockdown', reason: 'drill', operator: 'ops1' });
    expect((await cmd('replay', '--gate', 'g1', '--from', '5', '--to', '9')).code).toBe(0);
    expect(received.at(-1)).toMatchObject({ type: 'replay', fromSeq: 5, toSeq: 9 });
    expect((await cmd('purge-person', '--gate', 'g1', '--person', 'v42')).code).toBe(0);
    expect(received.at(-1)).toMatchObject({ type: 'purge-person', personId: 'v42' });
  });

  it('exits 1 and says why when the gate refuses', async () => {
    const r = await cmd('open', '--gate', 'g1', '--direction', 'in', '--reason', 'delivery');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, error: { code: 'LOCKDOWN' } });
    expect(r.err).toMatch(/gate g1 refused: LOCKDOWN/);
  });

  it('shows the refusal of a command the gate cannot read (signed under a kid it does not know)', async () => {
    const r = await gatectl(['cmd', 'ping', '--site', 's1', '--gate', 'g1', '--url', broker.url, '--key-file', keyFile, '--kid', 'stranger', '--timeout', '5']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ id: '', ok: false, error: { code: 'UNKNOWN_KID' } });
    expect(r.err).toMatch(/gate g1 refused: UNKNOWN_KID/);
  });

  it('--all sends one command to every gate of the site and prints each answer', async () => {
    // A second gate of the site, answering on its own result topic as protocol v1 says.
    const g2 = await Wire.connect(broker.url);
    const t2 = gateTopics('s1', 'g2');
    g2.client.on('message', (topic, payload, packet) => {
      const id = (JSON.parse(JSON.parse(payload.toString()).body) as { id: string }).id;
      void g2.client.publishAsync(t2.cmdResult, JSON.stringify({ id, ok: true, result: { pong: true } }), { qos: 1, properties: { correlationData: packet.properties!.correlationData! } });
    });
    await g2.sub(siteTopics('s1').cmd);
    await gate.sub(siteTopics('s1').cmd);
    try {
      const r = await gatectl(['cmd', 'ping', '--all', '--site', 's1', '--url', broker.url, '--key-file', keyFile, '--timeout', '1.5']);
      expect(r.code, r.err).toBe(0);
      const answers = r.out.trim().split('\n').map((l) => JSON.parse(l) as { gate: string; ok: boolean });
      expect(answers.map((a) => a.gate).sort()).toEqual(['g1', 'g2']);
      expect(answers.every((a) => a.ok)).toBe(true);
      expect(r.err).toMatch(/2 gate\(s\) answered, 0 refused/);
    } finally {
      await gate.client.unsubscribeAsync(siteTopics('s1').cmd);
      await g2.close();
    }
  });

  it('exits 3 when no result comes in time', async () => {
    const r = await cmd('ping', '--gate', 'g2', '--timeout', '1');
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/CMD_TIMEOUT: no result from gate g2 within 1 s/);
  });

  it('refuses bad arguments before touching the broker', async () => {
    const n = received.length;
    const bad = [
      await cmd('reboot', '--gate', 'g1'),
      await cmd('set-mode', '--gate', 'g1', '--mode', 'party', '--reason', 'x'),
      await cmd('replay', '--gate', 'g1'),
      await cmd('ping', '--gate', 'g/1'),
      await cmd('ping', '--gate', 'g1', '--colour', 'red'),
    ];
    expect(bad.map((b) => b.code)).toEqual([2, 2, 2, 2, 2]);
    expect(bad[1]!.err).toMatch(/--mode: expected one of normal, lockdown, emergency/);
    expect(bad[4]!.err).toMatch(/Unknown option '--colour'/);
    expect(received.length).toBe(n);
  });
});

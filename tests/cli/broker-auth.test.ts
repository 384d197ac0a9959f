/**
 * gatectl talks to the broker with the gate's TLS and auth options: a CA to
 * check the broker, a client certificate, a username and password (the
 * password from GATECTL_PASSWORD so it stays out of the process list).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateTopics } from '../../src/sync/protocol/topics.js';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { gatectl, tempDir } from './capture.js';
import { Wire } from './wire.js';

const tmp = tempDir();
const f = (n: string) => join(tmp.dir, n);
let broker: Mosquitto;
let tlsPort: number;
let gate: Wire;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: tmp.dir, stdio: 'pipe', timeout: 20_000 });
}

beforeAll(async () => {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who}`, '-keyout', `${who}.key`, '-out', `${who}.csr`);
    openssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', `${who}.pem`);
  }
  writeFileSync(f('passwd'), '');
  execFileSync('mosquitto_passwd', ['-b', f('passwd'), 'central', 's3cret'], { timeout: 10_000 });
  tlsPort = await freePort();
  broker = await startMosquitto({
    extra: [
      'allow_anonymous false',
      `password_file ${f('passwd')}`,
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${f('ca.pem')}`,
      `certfile ${f('server.pem')}`,
      `keyfile ${f('server.key')}`,
      'require_certificate true',
    ],
  });
  await gatectl(['keygen', '--kid', 'c1', '--out', tmp.dir]);
  gate = await Wire.connect(broker.url, 'gate-g1', { username: 'central', password: 's3cret' });
  const t = gateTopics('s1', 'g1');
  gate.client.on('message', (topic, payload, packet) => {
    if (topic !== t.cmd) return;
    const id = (JSON.parse(JSON.parse(payload.toString()).body) as { id: string }).id;
    void gate.client.publishAsync(packet.properties!.responseTopic!, JSON.stringify({ id, ok: true }), { qos: 1, properties: { correlationData: packet.properties!.correlationData! } });
  });
  await gate.sub(t.cmd);
}, 60_000);

afterAll(async () => {
  await gate?.close();
  await broker?.stop();
  tmp.cleanup();
});

const ping = (args: string[], env: Record<string, string> = {}) => {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  return gatectl(['cmd', 'ping', '--site', 's1', '--gate', 'g1', '--key-file', f('c1.key.pem'), '--timeout', '5', ...args]).finally(() => {
    process.env = saved;
  });
};

describe('broker TLS and auth options', () => {
  it('connects with --ca, --cert, --key and a password from GATECTL_PASSWORD', async () => {
    const r = await ping(['--url', `mqtts://127.0.0.1:${tlsPort}`, '--ca', f('ca.pem'), '--cert', f('client.pem'), '--key', f('client.key'), '--username', 'central'], {
      GATECTL_PASSWORD: 's3cret',
    });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true });
  });

  it('refuses a broker it cannot verify, a missing client certificate and a wrong password', async () => {
    const noCa = await ping(['--url', `mqtts://127.0.0.1:${tlsPort}`, '--cert', f('client.pem'), '--key', f('client.key'), '--username', 'central', '--password', 's3cret']);
    expect(noCa.code).toBe(1);
    expect(noCa.err).toMatch(/cannot connect to mqtts:\/\/127\.0\.0\.1:\d+: .*(self.signed|certificate)/i);
    const noCert = await ping(['--url', `mqtts://127.0.0.1:${tlsPort}`, '--ca', f('ca.pem'), '--username', 'central', '--password', 's3cret']);
    expect(noCert.code).toBe(1);
    expect(noCert.err).toMatch(/cannot connect/);
    const badPw = await ping(['--url', broker.url, '--username', 'central', '--password', 'wrong']);
    expect(badPw.code).toBe(1);
    expect(badPw.err).toMatch(/cannot connect to mqtt:\/\/127\.0\.0\.1:\d+: .*(Not authorized|Bad username or password)/i);
    const missing = await ping(['--url', broker.url, '--ca', f('nope.pem')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/--ca .*nope\.pem: ENOENT/);
    expect(readFileSync(f('c1.key.pem'), 'utf8')).toContain('PRIVATE KEY');
  });
});

/**
 * TLS from config on a real mosquitto: CA file, client certificate and key,
 * username and password (mqtt.ca / cert / key / username / password).
 * Certificates are made here with openssl, valid for 127.0.0.1 only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, freePort, type Mosquitto } from '../helpers/mosquitto.js';
import { startGate, type GateHarness } from './support/harness.js';
import { TestCentral, waitFor } from './support/central.js';

const dir = mkdtempSync(join(tmpdir(), 'gc-tls-'));
const f = (n: string) => join(dir, n);
const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

function makeCerts(): void {
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=test-ca');
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name === 'client' ? 'g1' : '127.0.0.1'}`);
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.ext`));
  }
}

let secure: Mosquitto;
let tlsPort: number;
let h: GateHarness | undefined;
let central: TestCentral;

beforeAll(async () => {
  makeCerts();
  writeFileSync(f('passwd'), '');
  execFileSync('mosquitto_passwd', ['-b', f('passwd'), 'g1', 's3cret']);
  tlsPort = await freePort();
  // one broker: a plain loopback listener for the test's central, a TLS one for the gate
  secure = await startMosquitto({
    prelude: ['per_listener_settings true'],
    extra: [
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${f('ca.pem')}`, `certfile ${f('server.pem')}`, `keyfile ${f('server.key')}`,
      'require_certificate true',
      'allow_anonymous false',
      `password_file ${f('passwd')}`,
    ],
  });
  central = await TestCentral.connect(secure.url);
}, 30_000);

afterAll(async () => {
  await h?.dispose();
  await central?.close();
  await secure?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS and credentials from config', () => {
  it('connects over mqtts with the CA, client certificate and password from config', async () => {
    h = await startGate(`mqtts://127.0.0.1:${tlsPort}`, { ca: f('ca.pem'), cert: f('client.pem'), key: f('client.key'), username: 'g1', password: 's3cret' });
    await waitFor('status over TLS', () => central.status?.online === true, 15_000);
    expect(secure.log()).toMatch(/as gate-s1-g1 \(p5, c0/);
  }, 30_000);

  it('is refused without a client certificate and keeps retrying', async () => {
    await h?.dispose();
    const attempts = () => (secure.log().match(new RegExp(`New connection from 127\\.0\\.0\\.1:\\d+ on port ${tlsPort}`, 'g')) ?? []).length;
    const before = attempts();
    h = await startGate(`mqtts://127.0.0.1:${tlsPort}`, { ca: f('ca.pem'), username: 'g1', password: 's3cret' }, { tuning: { backoffMinMs: 100, backoffMaxMs: 300 } });
    // Three refused attempts in a row, the gate never connected in between.
    // Nominally about 1 s (backoff 100-300 ms); bounded at 10 s because a
    // loaded CI machine (Node 24 stage, 2026-11-24) once took over 1.5 s for
    // the TLS refusals and mosquitto's log lines.
    let everConnected = false;
    await waitFor('three refused connection attempts', () => {
      everConnected ||= h!.sync.connected;
      return attempts() - before >= 3 || undefined;
    }, 10_000);
    expect(everConnected || h.sync.connected).toBe(false);
  }, 30_000);
});

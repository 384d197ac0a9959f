/**
 * gatectl against the real daemon: a whitelist pushed from CSV decides the
 * next tap, commands come back with the gate's result, a QR pass issued by
 * central opens the gate, and the collector and `gatectl logs` see it all.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/store/types.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { gatectl, tempDir } from '../cli/capture.js';
import { centralKey, CollectorProcess, GateProcess, requireBuiltDaemon, waitFor } from './harness.js';

let broker: Mosquitto;
let gate: GateProcess;
let central: CollectorProcess;
const tmp = tempDir();
const keyFile = join(tmp.dir, 'c1.key.pem');

beforeAll(async () => {
  requireBuiltDaemon();
  writeFileSync(keyFile, centralKey.privatePem, { mode: 0o600 });
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

const broker_ = () => ['--url', broker.url, '--key-file', keyFile];
const events = () => central.store!.events('g1', 1, Number.MAX_SAFE_INTEGER, 100_000);
const lastAccess = () => events().filter((e) => e.type === 'access').at(-1) as (JournalEvent & { granted: boolean; reason: string; personId?: string }) | undefined;

async function tapAndWait(line: string): Promise<JournalEvent & { granted: boolean; reason: string; personId?: string }> {
  const before = events().filter((e) => e.type === 'access').length;
  gate.tap(line);
  await waitFor('the access event at central', () => events().filter((e) => e.type === 'access').length > before, 20_000, () => gate.log());
  return lastAccess()!;
}

it('a pushed whitelist, commands and a central QR pass work on the real gate', async () => {
  const csv = join(tmp.dir, 'people.csv');
  writeFileSync(csv, 'personId,kind,name,cards\np1,staff,Zhang Wei,0A0B0C0D\n');
  const push = await gatectl(['whitelist', 'push', csv, '--site', 's1', ...broker_()]);
  expect(push.code, push.err).toBe(0);
  await waitFor(
    'the gate to apply whitelist version 1',
    () => (central.store!.statuses().find((s) => s.gate === 'g1')?.status as { whitelistVersion?: number } | undefined)?.whitelistVersion === 1,
    20_000,
    () => gate.log(),
  );
  expect(await tapAndWait('0A0B0C0D')).toMatchObject({ granted: true, reason: 'GRANTED', personId: 'p1' });
  expect(await tapAndWait('0A0B0C0E')).toMatchObject({ granted: false, reason: 'UNKNOWN_CREDENTIAL' });

  const ping = await gatectl(['cmd', 'ping', '--site', 's1', '--gate', 'g1', ...broker_()]);
  expect(ping.code, ping.err).toBe(0);
  expect(JSON.parse(ping.out)).toMatchObject({ ok: true });

  const pingAll = await gatectl(['cmd', 'ping', '--all', '--site', 's1', '--timeout', '2', ...broker_()]);
  expect(pingAll.code, pingAll.err).toBe(0);
  expect(JSON.parse(pingAll.out)).toMatchObject({ gate: 'g1', ok: true });

  // Signed under a kid the gate does not know: refused, and gatectl says so at once.
  const stranger = await gatectl(['cmd', 'ping', '--site', 's1', '--gate', 'g1', ...broker_(), '--kid', 'stranger']);
  expect(stranger.code, stranger.err).toBe(1);
  expect(JSON.parse(stranger.out)).toMatchObject({ ok: false });

  const lock = await gatectl(['cmd', 'set-mode', '--site', 's1', '--gate', 'g1', '--mode', 'lockdown', '--reason', 'drill', ...broker_()]);
  expect(lock.code, lock.err + lock.out).toBe(0);
  expect(await tapAndWait('0A0B0C0D')).toMatchObject({ granted: false, reason: 'LOCKDOWN' });
  const normal = await gatectl(['cmd', 'set-mode', '--site', 's1', '--gate', 'g1', '--mode', 'normal', '--reason', 'drill over', ...broker_()]);
  expect(normal.code).toBe(0);

  const open = await gatectl(['cmd', 'open', '--site', 's1', '--gate', 'g1', '--direction', 'in', '--reason', 'delivery', '--operator', 'ops1', ...broker_()]);
  expect(open.code, open.err + open.out).toBe(0);
  await waitFor('the manual_open event at central', () => events().some((e) => e.type === 'manual_open'), 20_000, () => gate.log());

  const purge = await gatectl(['cmd', 'purge-person', '--site', 's1', '--gate', 'g1', '--person', 'p1', ...broker_()]);
  expect(purge.code, purge.err + purge.out).toBe(0);
  await waitFor('the purge event at central', () => events().some((e) => e.type === 'purge'), 20_000, () => gate.log());
  expect(await tapAndWait('0A0B0C0D')).toMatchObject({ granted: false }); // the person is gone from this gate

  const now = Date.now();
  const pass = await gatectl([
    'pass', 'issue', '--site', 's1', '--name', 'Visitor V', '--from', new Date(now - 60_000).toISOString(), '--to', new Date(now + 3_600_000).toISOString(),
    '--key-file', keyFile, '--out', join(tmp.dir, 'pass.png'),
  ]);
  expect(pass.code, pass.err).toBe(0);
  const token = pass.out.trim().split('\n').at(-1)!;
  expect(await tapAndWait(token)).toMatchObject({ granted: true });

  // Asking the real gate to replay what the store lacks, when it lacks nothing.
  const logs = await gatectl(['logs', '--gate', 'g1', '--db', central.dbPath, '--format', 'csv', ...broker_()]);
  expect(logs.err).toBe('');
  expect(logs.code).toBe(0);
  expect(logs.out).toContain(',access,');
  expect(logs.out).not.toContain('Zhang');
}, 150_000);

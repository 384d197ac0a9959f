/**
 * Oversize central messages never reach the gate: the real daemon declares
 * MQTT 5 Maximum Packet Size from mqtt.maxPayloadBytes (default 5 MiB), so a
 * real mosquitto drops larger PUBLISHes ("Dropping too large outgoing
 * PUBLISH") and the gate's memory does not move; the largest message gatectl
 * makes (a chunk with one person and the largest photo) still arrives and
 * applies; and a packet in the band where the broker's size check and
 * MQTT.js's differ does not break the link.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { centralKey, centralKeys, cmd, TestCentral, waitFor } from './support/central.js';
import { buildSnapshot } from '../../src/sync/protocol/snapshot.js';
import { envelopeBytes } from '../../src/sync/protocol/envelope.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, MAX_PHOTO_CHARS, maximumPacketSize } from '../../src/sync/protocol/limits.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MiB = 1024 * 1024;
let broker: Mosquitto;
let central: TestCentral;
let gate: ChildProcess;
let out = '';
let dir: string;

/** kB figures from /proc/PID/status. */
function mem(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)![1]);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

beforeAll(async () => {
  broker = await startMosquitto();
  central = await TestCentral.connect(broker.url);
  dir = mkdtempSync(join(tmpdir(), 'gc-oversize-'));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, stringify({
    gate: { id: 'g1', site: 's1' },
    storage: { path: join(dir, 'gate.db') },
    mqtt: { url: broker.url },
    central: { keys: { k1: centralKeys.publicPem } },
    privacy: { idHashKey: '07'.repeat(32) },
    gpio: { backend: 'sim' },
    log: { level: 'info' },
  }));
  gate = spawn(process.execPath, ['dist/src/main.js', '--config', cfg], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: '' } });
  gate.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  gate.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  await waitFor('gate online', () => central.status?.online === true, 30_000);
}, 60_000);

afterAll(async () => {
  if (gate && gate.exitCode === null) {
    const exited = new Promise((r) => gate.once('exit', r));
    gate.kill('SIGTERM');
    const t = setTimeout(() => gate.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
  for (const t of [central?.st.manifest, central?.st.chunk(0)]) if (t) await central.publish(t, '', { retain: true });
  await central?.close();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const dropped = () => broker.log().split('\n').filter((l) => l.includes('Dropping too large outgoing PUBLISH')).length;
const ping = async () => expect(await central.command(cmd('ping'), { timeoutMs: 30_000 })).toMatchObject({ ok: true });

describe('oversize central messages', () => {
  it('are dropped by the broker on every topic: the gate never sees them and its memory stays put', async () => {
    const pid = gate.pid!;
    await ping();
    // Peak RSS from here on: writing 5 to clear_refs resets VmHWM to the current RSS; where
    // that is not allowed, RSS sampled every 5 ms stands in for the peak.
    let hwmReset = true;
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      hwmReset = false;
    }
    const before = mem(pid);
    let sampled = before.rss;
    const sampler = setInterval(() => (sampled = Math.max(sampled, mem(pid).rss)), 5);
    const d0 = dropped();
    const big = (n: number) => Buffer.alloc(n, 0x7b);
    const sends: Array<[string, number]> = [
      [central.gt.eventsAck, 128 * MiB],
      [central.gt.cmd, 32 * MiB],
      [central.st.cmd, 32 * MiB],
      [central.gt.registrationsAck, 32 * MiB],
      [central.st.manifest, 32 * MiB],
      [central.st.delta, 32 * MiB],
      [central.gt.eventsAck, DEFAULT_MAX_PAYLOAD_BYTES + 64 * 1024],
    ];
    for (const [topic, n] of sends) await central.publish(topic, big(n));
    // A command after them: once it is answered, every one of them was delivered or dropped.
    await ping();
    await waitFor('broker drops logged', () => dropped() - d0 >= sends.length, 10_000);
    clearInterval(sampler);
    const after = mem(pid);
    const peak = hwmReset ? after.hwm : sampled;
    console.log(`gate RSS ${before.rss} → ${after.rss} kB, peak ${peak} kB (${hwmReset ? 'VmHWM' : 'sampled'}); broker dropped ${dropped() - d0}`);
    expect(dropped() - d0).toBe(sends.length);
    // peak within 8 MB of where it was (measured 2-4.5 MB of ordinary churn; the 128 MiB ack alone took +640 MB before)
    expect(peak - before.rss).toBeLessThan(8 * 1024);
    expect(out).not.toContain('central message rejected'); // none of them reached the gate
    expect(out).not.toContain('mqtt connection lost');
  }, 120_000);

  it('a packet in the band between the broker\'s size check and MQTT.js\'s is refused by size, and the link stays up', async () => {
    // mosquitto 2.0 forwards a PUBLISH while remaining length + its length bytes ≤ the declared
    // maximum: the packet is then one byte larger than the maximum by MQTT's count.
    const max = maximumPacketSize(DEFAULT_MAX_PAYLOAD_BYTES);
    const topic = central.gt.eventsAck;
    const payload = max - 4 /* length bytes */ - (2 + Buffer.byteLength(topic)) - 2 /* packet id */ - 1 /* no properties */;
    const d0 = dropped();
    await central.publish(topic, Buffer.alloc(payload, 0x20));
    await ping();
    expect(dropped()).toBe(d0); // the broker let it through…
    await waitFor('refused by size', () => out.split('\n').find((l) => l.includes('central message rejected') && l.includes('"OVERSIZE"')));
    expect(out).not.toContain('mqtt connection lost'); // …and the link did not drop (nor loop on it)
    // One byte more and the broker drops it: the declared maximum is exactly maxPayloadBytes + 4 KiB.
    await central.publish(topic, Buffer.alloc(payload + 1, 0x20));
    await ping();
    await waitFor('dropped at the broker', () => dropped() === d0 + 1, 10_000);
  }, 60_000);

  it('the largest message gatectl makes (one person, the largest photo) arrives and applies with the defaults', async () => {
    const photo = 'A'.repeat(MAX_PHOTO_CHARS);
    const name = '"\\'.repeat(100); // quotes and backslashes: escaped twice on the wire
    const data = {
      people: [{ id: 'big', kind: 'visitor' as const, name, hostId: 'h'.repeat(128), photo }, { id: 'p2', kind: 'staff' as const, name: 'N' }],
      credentials: [{ key: 'card:B16', personId: 'big', status: 'active' as const }],
      schedules: [],
    };
    const snap = buildSnapshot(2, data, { kid: 'k1', key: centralKey });
    const sizes = snap.chunks.map((c) => envelopeBytes(c).length);
    expect(Math.max(...sizes)).toBeGreaterThan(MAX_PHOTO_CHARS);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(DEFAULT_MAX_PAYLOAD_BYTES);
    for (const [i, c] of snap.chunks.entries()) await central.publish(central.st.chunk(i), envelopeBytes(c), { retain: true });
    await central.publish(central.st.manifest, envelopeBytes(snap.manifest), { retain: true });
    await waitFor('snapshot applied', () => central.status?.whitelistVersion === 2 || undefined, 60_000);
  }, 90_000);
});

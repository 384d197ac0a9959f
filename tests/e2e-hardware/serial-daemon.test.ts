/**
 * The real daemon (spawned) with a serial reader (format hex) on a real
 * socat pseudo-terminal pair, the sim GPIO tracing every relay write: a line
 * written on the far end of the pty ends in an access journal row and a relay
 * pulse; unplug (socat killed, the pty and its link vanish) and replug (socat
 * again on the same link path) → the same daemon reads the next tap.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../bench/lib/daemon.js';
import { startPtyPair, type PtyPair } from '../helpers/socat.js';
import { logLines, makeGate, PULSE_MS, sleep, until, type GateFixture } from './gate-fixture.js';

const CARD = '04A1B2C3';
const CARD_AFTER = '05D6E7F8';
const UNKNOWN = '0BADCAFE';

let ptyDir: string;
let pair: PtyPair | undefined;
let daemon: Daemon | undefined;
let gate: GateFixture | undefined;

beforeAll(() => {
  ptyDir = mkdtempSync(join(tmpdir(), 'gate-e2e-pty-'));
});

afterAll(async () => {
  await daemon?.stop();
  await pair?.stop();
  gate?.cleanup();
  rmSync(ptyDir, { recursive: true, force: true });
}, 30_000);

const opened = () => logLines(daemon!.output(), 'serial reader open').length;
const pulsesDone = (n: number) => () => gate!.pulses().length === n && gate!.pulses()[n - 1]!.off !== undefined;

describe.sequential('daemon + serial reader on a socat pty', () => {
  it('a hex line on the pty → an access journal row, then a relay pulse of pulseMs', async () => {
    pair = await startPtyPair(ptyDir);
    gate = makeGate({
      cards: [CARD, CARD_AFTER],
      readers: [{ id: 'entry', type: 'serial', direction: 'in', path: pair.readerPath, baudRate: 9600, format: 'hex', repeatMs: 300 }],
    });
    daemon = startDaemon({ configPath: gate.configPath });
    await daemon.ready;
    await until('port open', () => opened() === 1, 5_000, daemon.output);

    await pair.send(`${CARD}\r\n`);
    await until('relay pulse', pulsesDone(1), 5_000, daemon.output);
    // Garbage and an unknown card move no relay.
    await pair.send(Buffer.from([0x00, 0xff, 0x13, 0x0d, 0x0a]));
    await pair.send(`${UNKNOWN}\r\n`);
    await sleep(PULSE_MS + 300);
    expect(gate.pulses()).toHaveLength(1);
  });

  it('unplug (socat killed) then replug on the same path: the same daemon reads the next tap', async () => {
    await pair!.send(CARD.slice(0, 4)); // half a line, then the cable is pulled
    await sleep(50);
    await pair!.stop();
    pair = undefined;
    await until('reader down', () => logLines(daemon!.output(), 'serial reader down, retrying').length === 1, 5_000, daemon!.output);
    await sleep(800); // a few failed reopen attempts: the link is gone
    pair = await startPtyPair(ptyDir);
    await until('port reopened', () => opened() === 2, 10_000, daemon!.output);
    await pair.send(`${CARD_AFTER}\r\n`);
    await until('second pulse', pulsesDone(2), 5_000, daemon!.output);
    expect(daemon!.child.exitCode).toBeNull();
  });

  it('after a clean stop: the rows say what happened, each grant committed before its pulse', async () => {
    expect(await daemon!.stop()).toBe(0);
    const { events, chainOk } = gate!.journal();
    expect(chainOk).toBe(true);
    const access = events.filter((e) => e.type === 'access');
    expect(access.map((e) => [e.reader, e.credential, e.granted])).toEqual([
      ['entry', 'card:****B2C3', true],
      ['entry', 'card:****CAFE', false],
      ['entry', 'card:****E7F8', true],
    ]);
    const status = events.filter((e) => e.type === 'reader_status').map((e) => [e.connected, e.detail]);
    expect(status).toEqual([
      [true, 'port open'],
      [false, 'disconnected'],
      [true, 'port open'],
      [false, 'stopped'],
    ]);
    const grants = access.filter((e) => e.granted);
    const pulses = gate!.pulses();
    expect(pulses).toHaveLength(2);
    pulses.forEach((p, i) => {
      const committed = Date.parse(grants[i]!.ts);
      expect(committed).toBeLessThanOrEqual(p.on);
      expect(p.on - committed).toBeLessThan(1_000);
      expect(p.off! - p.on).toBeGreaterThanOrEqual(PULSE_MS - 1);
      expect(p.off! - p.on).toBeLessThan(PULSE_MS + 500);
    });
    // The garbage line and the half line cut by the unplug were logged by reason, never by content.
    const out = daemon!.output();
    const reasons = logLines(out, 'reader input rejected').map((l) => l.reason);
    expect(reasons).toEqual(expect.arrayContaining(['non-printable bytes', 'incomplete line']));
    expect(out).not.toContain(CARD);
  });
});

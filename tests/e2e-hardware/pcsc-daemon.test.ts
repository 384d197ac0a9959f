/**
 * The real daemon (spawned) with a pcsc reader, on the real stack: Debian
 * pcscd + vsmartcard-vpcd, a virtual card connecting to vpcd as a card enters
 * the field, the sim GPIO tracing every relay write to a file. A UID read
 * through pcscd must end in an access journal row and a relay pulse; removing
 * and re-inserting the card is a second tap; pcscd killed and started again is
 * recovered without restarting the daemon. First, on the same stack, the
 * driver's stop() from a card-removal event must not deadlock (see
 * NfcReader.stop()).
 *
 * pcscd and its socket are machine-wide: this file holds PCSCD_LOCK (as
 * tests/drivers/nfc/pcsc.test.ts does) from beforeAll to afterAll.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../bench/lib/daemon.js';
import { startPcscd, type Pcscd } from '../helpers/pcscd.js';
import { VirtualCard } from '../helpers/vpcd-card.js';
import { acquireLock, PCSCD_LOCK, type MachineLock } from './machine-lock.js';
import { logLines, makeGate, PULSE_MS, until, type GateFixture } from './gate-fixture.js';

const READER = 'Virtual PCD 00 00';
const UID = '04A1B2C3D4E5F6';
const UID_AFTER = '04CAFE00BEEF01';
const REPEAT_MS = 300;

let lock: MachineLock | undefined;
let pcscd: Pcscd | undefined;
let daemon: Daemon | undefined;
let gate: GateFixture | undefined;
const cards: VirtualCard[] = [];

beforeAll(async () => {
  lock = await acquireLock(PCSCD_LOCK);
  pcscd = await startPcscd();
}, 180_000);

afterAll(async () => {
  for (const c of cards) await c.remove();
  await daemon?.stop();
  await pcscd?.stop('SIGTERM', 3_000);
  await lock?.release();
  gate?.cleanup();
}, 30_000);

const attached = () => logLines(daemon!.output(), 'pcsc reader attached').length;
const grantsIn = (g: GateFixture) => g.pulses().length;

describe.sequential('daemon + pcsc reader through pcscd + vpcd', () => {
  it('NfcReader.stop() reached from a card-removal event returns (no CardReader.close deadlock)', async () => {
    // Before the daemon starts: the child is pcscd's only client.
    // A deadlock here blocks the event loop for good, so the reader runs in a
    // child process (the built driver) that the test can kill.
    const built = fileURLToPath(new URL('../../dist/src/drivers/nfc/', import.meta.url));
    if (!existsSync(`${built}nfc-reader.js`)) throw new Error(`${built} missing: run \`npm run build\` first`);
    const script = `
      const { NfcReader } = await import('${built}nfc-reader.js');
      const { loadNfcPcsc } = await import('${built}nfc-pcsc.js');
      const log = { info() {}, warn(o, m) { say('warn ' + m + ' ' + JSON.stringify(o)); }, debug(o, m) { say('debug ' + m + ' ' + JSON.stringify(o)); }, error() {} };
      const say = (m) => process.stdout.write(m + '\\n');
      const createNfc = () => {
        const nfc = loadNfcPcsc()();
        nfc.on('reader', (d) => d.on('card.off', async () => { await Promise.resolve(); await reader.stop(); say('stopped'); process.exit(0); }));
        return nfc;
      };
      const reader = new NfcReader({ id: 'x', direction: 'in', name: '${READER}', repeatMs: 0 }, { log, createNfc });
      reader.on('status', (c) => c && say('attached'));
      reader.on('credential', () => say('credential'));
      reader.on('rejected', (r) => say('rejected ' + r));
      await reader.start();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const c = new VirtualCard({ uid: '04222222222222' });
    try {
      await until('child reader attached', () => out.includes('attached'), 8_000);
      await c.insert();
      await until('child credential', () => out.includes('credential'), 8_000, () => out);
      await c.remove();
      await until('stop() returned after card.off', () => out.includes('stopped'), 5_000, () => out);
      // 'stopped' followed the child's card.off: pcscd has seen this card
      // leave before the daemon's first card goes in.
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await c.remove();
    }
  });

  it('a UID read through pcscd → an access journal row, then a relay pulse of pulseMs', async () => {
    gate = makeGate({
      cards: [UID, UID_AFTER],
      readers: [{ id: 'entry', type: 'pcsc', direction: 'in', name: READER, repeatMs: REPEAT_MS }],
      logLevel: 'debug',
    });
    daemon = startDaemon({ configPath: gate.configPath });
    const readyMs = await daemon.ready;
    console.log(`daemon ready in ${readyMs.toFixed(0)} ms`);
    await until('reader attached', () => attached() === 1, 10_000, daemon.output);

    const card = new VirtualCard({ uid: UID });
    cards.push(card);
    await card.insert();
    await until('relay pulse', () => gate!.pulses().at(-1)?.off !== undefined, 10_000, daemon.output);
    // The card stays on the reader: still one tap after pcscd has checked it
    // twice past the repeat window (counted from the pulse, after the read).
    const pulsed = performance.now();
    await until('two presence polls past repeatMs', () => card.polls.filter((t) => t > pulsed + REPEAT_MS).length >= 2, 5_000);
    expect(grantsIn(gate)).toBe(1);
    expect(card.apdus.map((a) => a.toString('hex'))).toEqual(['ffca000000']);
  });

  it('removing and re-inserting the card is a second tap', async () => {
    const card = cards[0]!;
    await card.leave(); // resolves once pcscd has seen the card go
    await card.insert();
    await until('second pulse', () => gate!.pulses().length === 2 && gate!.pulses()[1]!.off !== undefined, 10_000, daemon!.output);
    await card.remove();
  });

  it('pcscd killed and started again: the same daemon reads the next card', async () => {
    await pcscd!.stop('SIGKILL');
    const lost = () => logLines(daemon!.output(), 'pcsc context failed').length + logLines(daemon!.output(), 'pcsc reader detached').length;
    await until('pcscd loss noticed', () => lost() >= 1, 8_000, daemon!.output);
    const retries = () => logLines(daemon!.output(), 'pcsc retry scheduled').length;
    const before = retries();
    await until('a few failed reconnects against the dead socket', () => retries() >= before + 2, 10_000, daemon!.output);
    pcscd = await startPcscd();
    await until('reader attached again', () => attached() === 2, 15_000, daemon!.output);
    const card = new VirtualCard({ uid: UID_AFTER });
    cards.push(card);
    await card.insert();
    await until('third pulse', () => gate!.pulses().length === 3 && gate!.pulses()[2]!.off !== undefined, 10_000, daemon!.output);
    await card.remove();
    expect(daemon!.child.exitCode).toBeNull(); // never restarted
  });

  it('after a clean stop: three granted rows, each committed before its pulse, chain intact', async () => {
    const startedPid = daemon!.child.pid;
    expect(await daemon!.stop()).toBe(0);
    const { events, chainOk } = gate!.journal();
    expect(chainOk).toBe(true);
    const access = events.filter((e) => e.type === 'access');
    expect(access.map((e) => [e.reader, e.direction, e.credential, e.granted, e.personId])).toEqual([
      ['entry', 'in', 'card:****E5F6', true, 'p0'],
      ['entry', 'in', 'card:****E5F6', true, 'p0'],
      ['entry', 'in', 'card:****EF01', true, 'p1'],
    ]);
    // The outage is in the journal too, and the daemon was one process throughout.
    const status = events.filter((e) => e.type === 'reader_status').map((e) => e.connected);
    const changes = status.filter((c, i) => i === 0 || c !== status[i - 1]);
    expect(changes).toEqual([true, false, true, false]); // attached, pcscd lost, attached, stopped
    expect(events.filter((e) => e.type === 'startup')).toHaveLength(1);
    expect(startedPid).toBeDefined();

    const pulses = gate!.pulses();
    expect(pulses).toHaveLength(3);
    pulses.forEach((p, i) => {
      const committed = Date.parse(access[i]!.ts);
      expect(committed).toBeLessThanOrEqual(p.on); // journal first, then the relay
      expect(p.on - committed).toBeLessThan(1_000);
      expect(p.off! - p.on).toBeGreaterThanOrEqual(PULSE_MS - 1);
      expect(p.off! - p.on).toBeLessThan(PULSE_MS + 500);
    });
    // The relay was driven safe at start and ends off.
    expect(gate!.trace()[0]).toMatchObject({ line: 'entry', active: false });
    expect(gate!.trace().filter((r) => r.line === 'entry').at(-1)!.active).toBe(false);
  });
});

/**
 * NfcReader on the real stack: Debian pcscd + the vsmartcard-vpcd driver, a
 * virtual card connecting to vpcd as the card would enter the field.
 * pcscd and its socket are machine-wide, so EVERY test
 * touching pcscd lives in this one file, run in order, and the pcscd this
 * file started is killed in afterAll. The daemon-level test on the same stack
 * (tests/e2e-hardware/pcsc-daemon.test.ts) runs in another worker: both files
 * hold PCSCD_LOCK from beforeAll to afterAll, so they never overlap.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NfcReader } from '../../../src/drivers/nfc/nfc-reader.js';
import type { RawCredential } from '../../../src/drivers/types.js';
import { startPcscd, VPCD_PORT, type Pcscd } from '../../helpers/pcscd.js';
import { VirtualCard } from '../../helpers/vpcd-card.js';
import { acquireLock, PCSCD_LOCK, type MachineLock } from '../../e2e-hardware/machine-lock.js';
import { until } from '../../helpers/until.js';

const READER_0 = 'Virtual PCD 00 00'; // vpcd slot listening on VPCD_PORT
const READER_1 = 'Virtual PCD 00 01'; // vpcd slot listening on VPCD_PORT + 1
const UID = '04A1B2C3D4E5F6';

let pcscd: Pcscd | undefined;
let lock: MachineLock | undefined;
const readers: NfcReader[] = [];
const cards: VirtualCard[] = [];

beforeAll(async () => {
  lock = await acquireLock(PCSCD_LOCK);
}, 180_000);

afterAll(async () => {
  for (const r of readers) await r.stop();
  for (const c of cards) await c.remove();
  await pcscd?.stop('SIGTERM', 3_000);
  await lock?.release();
});

const REPEAT_MS = 300;

function makeReader(name: string, repeatMs = REPEAT_MS) {
  // The reader's debug log counts its reconnect attempts ('pcsc retry scheduled').
  let retries = 0;
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        if (chunk.toString().includes('"pcsc retry scheduled"')) retries++;
        done();
      },
    }),
  );
  const reader = new NfcReader(
    { id: name.endsWith('00') ? 'entry' : 'exit', direction: 'in', name, repeatMs },
    { log, backoff: { initialMs: 100, maxMs: 400 } },
  );
  readers.push(reader);
  const creds: Array<{ cred: RawCredential; seen: number }> = [];
  const rejected: string[] = [];
  const status: Array<[boolean, string]> = [];
  reader.on('credential', (cred) => creds.push({ cred, seen: performance.now() }));
  reader.on('rejected', (r) => rejected.push(r));
  reader.on('status', (c, d) => status.push([c, d]));
  return { reader, creds, rejected, status, retries: () => retries };
}

function card(uid: string, extra: { port?: number; getDataSw?: number } = {}) {
  const c = new VirtualCard({ uid, ...extra });
  cards.push(c);
  return c;
}

/** Largest gap between ticks of a 20 ms interval while `during` runs: a blocked event loop shows here. */
async function maxTickGap(during: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 20);
  try {
    await during();
  } finally {
    clearInterval(timer);
  }
  return worst;
}

describe.sequential('NfcReader through pcscd + vpcd', () => {
  const main = makeReader(READER_0);

  it('pcscd absent: reports status false without blocking, connects once pcscd starts', async () => {
    const gap = await maxTickGap(async () => {
      await main.reader.start();
      expect(main.reader.connected).toBe(false);
      expect(main.status).toEqual([[false, 'pcscd not running']]);
      await until(() => main.retries() >= 4, { what: 'several probe retries' });
    });
    expect(gap).toBeLessThan(300);
    expect(main.status).toHaveLength(1);

    pcscd = await startPcscd();
    await until(() => main.reader.connected, { what: 'reader attached', timeoutMs: 8_000 });
    expect(main.status.at(-1)).toEqual([true, `reader attached: ${READER_0}`]);
  });

  it('a card read through pcscd is exactly one credential; the driver sent GET DATA', async () => {
    const c = card(UID);
    const t0 = performance.now();
    await c.insert();
    await until(() => main.creds.length === 1, { what: 'credential', timeoutMs: 8_000 });
    const seen = main.creds[0]!.seen;
    console.log(`vpcd card insert → credential event: ${(seen - t0).toFixed(1)} ms (pcscd polls vpcd)`);
    // No second event while the card stays: pcscd has checked the card twice
    // after the repeat window ended, and it was still the one tap.
    await until(() => c.polls.filter((t) => t > seen + REPEAT_MS).length >= 2, { what: 'two presence polls past repeatMs' });
    expect(main.creds.map((x) => x.cred)).toEqual([{ kind: 'card', uid: UID }]);
    expect(c.apdus.map((a) => a.toString('hex'))).toEqual(['ffca000000']);
    expect(main.rejected).toEqual([]);
  });

  it('removing and re-inserting the card is a second tap', async () => {
    const c = cards[0]!;
    await c.leave(); // resolves once pcscd has seen the card go
    await c.insert();
    await until(() => main.creds.length === 2, { what: 'second credential', timeoutMs: 8_000 });
    expect(main.creds.map((x) => x.cred)).toEqual([
      { kind: 'card', uid: UID },
      { kind: 'card', uid: UID },
    ]);
    await c.leave();
  });

  it('a card refusing GET DATA is rejected with its status word, no credential', async () => {
    const c = card('0102030405060708', { getDataSw: 0x6a81 });
    await c.insert();
    await until(() => main.rejected.length === 1, { what: 'rejection', timeoutMs: 8_000 });
    expect(main.rejected).toEqual(['GET DATA failed: SW 6A81']);
    expect(main.creds).toHaveLength(2);
    await c.leave();
  });

  it('cfg.name filters readers by name: each card is seen only by its reader', async () => {
    const other = makeReader(READER_1);
    await other.reader.start();
    await until(() => other.reader.connected, { what: 'second reader attached', timeoutMs: 8_000 });
    expect(other.status.at(-1)).toEqual([true, `reader attached: ${READER_1}`]);
    const onOne = card('04111111111111', { port: VPCD_PORT + 1 });
    await onOne.insert();
    await until(() => other.creds.length === 1, { what: 'credential on reader 1', timeoutMs: 8_000 });
    expect(other.creds[0]!.cred).toEqual({ kind: 'card', uid: '04111111111111' });
    // Every pcsc context saw that insertion at once; two later presence polls
    // leave the main reader all the time it would need to (wrongly) read it.
    const read = other.creds[0]!.seen;
    await until(() => onOne.polls.filter((t) => t > read).length >= 2, { what: 'two presence polls after the read' });
    expect(main.creds).toHaveLength(2);
    await onOne.remove();
    await other.reader.stop();
    expect(other.reader.connected).toBe(false);
  });

  it('pcscd killed → status false without blocking; pcscd back → the same reader reads again', async () => {
    const downAt = main.status.length;
    const gap = await maxTickGap(async () => {
      await pcscd!.stop('SIGKILL');
      await until(() => !main.reader.connected, { what: 'status false', timeoutMs: 5_000 });
      const before = main.retries();
      await until(() => main.retries() >= before + 3, { what: 'probes failing against the dead socket, retried with back-off' });
    });
    expect(gap).toBeLessThan(300);
    // One report per outage; pcscd's death reaches the reader ('end') and the
    // context ('error') in either order, so either can be the one reported.
    const down = main.status.slice(downAt);
    expect(down).toHaveLength(1);
    expect(down[0]![0]).toBe(false);
    expect(down[0]![1]).toMatch(/^(pcscd connection lost|reader detached: Virtual PCD 00 00)$/);

    pcscd = await startPcscd();
    await until(() => main.reader.connected, { what: 'reconnected', timeoutMs: 8_000 });
    expect(main.status.at(-1)).toEqual([true, `reader attached: ${READER_0}`]);
    const c = card('04CAFE00BEEF01');
    await c.insert();
    await until(() => main.creds.length === 3, { what: 'credential after recovery', timeoutMs: 8_000 });
    expect(main.creds[2]!.cred).toEqual({ kind: 'card', uid: '04CAFE00BEEF01' });
    await c.remove();
  });
});

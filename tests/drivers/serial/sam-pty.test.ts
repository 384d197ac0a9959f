/**
 * The SAM reader driver against the simulated module on a real socat pty:
 * real native binding, real tty, answers paced at 115200 baud, real unplug
 * (socat killed) and replug.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SamDeskReader, SamGateReader } from '../../../src/drivers/serial/sam-reader.js';
import { SimSamModule } from '../../../src/drivers/readers/sam/sim-module.js';
import { CARD_TYPE_OFFSET, type CardFields } from '../../../src/drivers/readers/sam/base-info.js';
import { encodeFrame } from '../../../src/drivers/readers/sam/frame.js';
import type { DeskIdCard, RawCredential } from '../../../src/drivers/types.js';
import { startPtyPair, type PtyPair } from '../../helpers/socat.js';

const CARD: CardFields = {
  name: '张三', sex: '1', nation: '01', birthDate: '19491231', address: '北京市东城区景山前街4号',
  number: '11010519491231002X', authority: '北京市公安局东城分局', validFrom: '20200101', validTo: '20400101',
};
const OTHER: CardFields = { ...CARD, name: '李四', number: '110105194912310029' };

let dir: string;
let pair: PtyPair | undefined;
let mod: SimSamModule | undefined;
let stops: Array<() => Promise<void>> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gate-sam-'));
});
afterEach(async () => {
  for (const s of stops.reverse()) await s();
  stops = [];
  await mod?.stop();
  mod = undefined;
  await pair?.stop();
  pair = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function until(cond: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (cond()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`${what} not met in time`));
      setTimeout(check, 5);
    };
    check();
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pino logger whose every line is kept, to check that no card data is ever logged. */
function capturedLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: pino({ level: 'trace' }, stream), lines };
}

async function plug(): Promise<SimSamModule> {
  pair = await startPtyPair(dir);
  mod = new SimSamModule({ path: pair.simPath });
  await mod.start();
  return mod;
}

async function gateReader(opts: { pollMs?: number; commandTimeoutMs?: number; readTimeoutMs?: number } = {}) {
  const { log, lines } = capturedLog();
  const reader = new SamGateReader(
    { id: 'idcard', direction: 'in', path: pair!.readerPath, baudRate: 115_200, pollMs: opts.pollMs ?? 40 },
    { log, backoff: { initialMs: 100, maxMs: 400 }, commandTimeoutMs: opts.commandTimeoutMs, readTimeoutMs: opts.readTimeoutMs },
  );
  const seen = { creds: [] as RawCredential[], rejected: [] as string[], status: [] as Array<[boolean, string]> };
  reader.on('credential', (c) => seen.creds.push(c));
  reader.on('rejected', (r) => seen.rejected.push(r));
  reader.on('status', (c, d) => seen.status.push([c, d]));
  await reader.start();
  stops.push(() => reader.stop());
  await until(() => reader.connected, 5_000, 'SAM module ready');
  return { reader, seen, lines };
}

/** Wait until the driver has polled `n` more times. */
async function polls(m: SimSamModule, n: number): Promise<void> {
  const target = m.received.filter((c) => c === 'find').length + n;
  await until(() => m.received.filter((c) => c === 'find').length >= target, 5_000, `${n} polls`);
}

describe('SAM reader on a socat pty with the simulated module', () => {
  it('one id credential per card placed; a card left on is not a second tap; lift and place again is', async () => {
    const m = await plug();
    const { seen, lines } = await gateReader();
    expect(seen.status[0]).toEqual([true, 'SAM module ready']);
    expect(m.received[0]).toBe('samStatus');

    m.place(CARD);
    await until(() => seen.creds.length === 1);
    expect(seen.creds[0]).toEqual({ kind: 'id', number: '11010519491231002X' });
    expect(m.received.slice(-3)).toEqual(['find', 'select', 'readBase']);

    await polls(m, 5);
    expect(seen.creds).toHaveLength(1);

    m.remove();
    await polls(m, 2);
    m.place(CARD);
    await until(() => seen.creds.length === 2);
    m.remove();
    await polls(m, 2);
    m.place(OTHER);
    await until(() => seen.creds.length === 3);
    expect(seen.creds[2]).toEqual({ kind: 'id', number: '110105194912310029' });
    expect(seen.rejected).toEqual([]);

    // Minimisation: nothing of the card in any log line, at any level.
    const all = lines.join('');
    for (const s of ['11010519491231002X', '110105194912310029', '张三', '李四', '北京', '19491231']) expect(all).not.toContain(s);
  });

  it('assembles answers cut at every byte of the find answer and at many points of the read answer', async () => {
    const m = await plug();
    const { seen } = await gateReader();
    for (let cut = 1; cut < 15; cut++) {
      m.cutAt = (c) => (c === 'find' ? cut : undefined);
      await polls(m, 2);
    }
    expect(seen.rejected).toEqual([]);
    const cuts = [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 100, 647, 1100, 1293, 1294];
    for (const [i, cut] of cuts.entries()) {
      m.cutAt = (c) => (c === 'readBase' ? cut : undefined);
      m.place(i % 2 ? OTHER : CARD);
      await until(() => seen.creds.length === i + 1, 5_000, `read cut at ${cut}`);
      m.remove();
      await polls(m, 2);
    }
    expect(seen.rejected).toEqual([]);
    expect(seen.creds).toHaveLength(cuts.length);
  });

  it('garbage before and between frames is reported and skipped; the tap still comes through', async () => {
    const m = await plug();
    const { seen } = await gateReader();
    await m.sendRaw(Buffer.from([0x00, 0x13, 0xaa, 0xaa, 0x55]));
    m.tamper = (frame, c) => (c === 'readBase' ? Buffer.concat([Buffer.from('noise\r\n'), frame]) : undefined);
    m.place(CARD);
    await until(() => seen.creds.length === 1);
    expect(seen.rejected.length).toBeGreaterThanOrEqual(1);
    expect(new Set(seen.rejected)).toEqual(new Set(['sam: bytes outside a frame']));
  });

  it('a read answer with a bad checksum is refused, and read again: exactly one tap', async () => {
    const m = await plug();
    const { seen } = await gateReader();
    let corrupted = 0;
    m.tamper = (frame, c) => {
      if (c !== 'readBase' || corrupted++ > 0) return undefined;
      const bad = Buffer.from(frame);
      bad[bad.length - 1] = bad.readUInt8(bad.length - 1) ^ 0xff;
      return bad;
    };
    m.place(CARD);
    await until(() => seen.creds.length === 1);
    // The bad frame's own bytes are then skipped as noise while the decoder looks for the next preamble.
    expect(seen.rejected[0]).toBe('sam: bad checksum');
    expect(new Set(seen.rejected.slice(1))).toEqual(new Set(seen.rejected.length > 1 ? ['sam: bytes outside a frame'] : []));
    await polls(m, 3);
    expect(seen.creds).toHaveLength(1);
  });

  it('no card: the reader polls quietly', async () => {
    const m = await plug();
    const { seen, reader } = await gateReader();
    await polls(m, 10);
    expect(seen.creds).toEqual([]);
    expect(seen.rejected).toEqual([]);
    expect(reader.connected).toBe(true);
  });

  it('a card removed between select and read is a rejected read, and placing it again is the tap', async () => {
    const m = await plug();
    const { seen } = await gateReader();
    let pulled = false;
    m.beforeAnswer = (c) => {
      if (c === 'readBase' && !pulled) {
        pulled = true;
        m.remove();
      }
    };
    m.place(CARD);
    await until(() => seen.rejected.length === 1);
    expect(seen.rejected).toEqual(['sam: read base: card read failed']);
    expect(seen.creds).toEqual([]);
    m.place(CARD);
    await until(() => seen.creds.length === 1);
  });

  it('a slow module within the timeout still gives one tap; a silent one is reported down, then up again', async () => {
    pair = await startPtyPair(dir);
    mod = new SimSamModule({ path: pair.simPath, delayMs: { readBase: 300, select: 60 } });
    await mod.start();
    const m = mod;
    const { seen, reader } = await gateReader({ commandTimeoutMs: 200, readTimeoutMs: 1_000 });
    m.place(CARD);
    await until(() => seen.creds.length === 1);
    expect(seen.rejected).toEqual([]);

    m.mute = true;
    await until(() => !reader.connected, 3_000, 'silent reader reported');
    expect(seen.status.at(-1)).toEqual([false, 'reader not answering']);
    m.mute = false;
    await until(() => reader.connected, 3_000, 'reader back');
    expect(seen.status.at(-1)).toEqual([true, 'SAM module ready']);
    expect(seen.creds).toHaveLength(1);
    expect(seen.status.filter(([c]) => !c)).toHaveLength(1);
  });

  it('a module slower than the timeout: the late answer is dropped, never taken for the next command', async () => {
    pair = await startPtyPair(dir);
    mod = new SimSamModule({ path: pair.simPath, delayMs: { readBase: 400 } });
    await mod.start();
    const m = mod;
    const { seen } = await gateReader({ readTimeoutMs: 150 });
    // The first read answer arrives 400 ms after its command, long after the driver gave up on it.
    m.beforeAnswer = (c) => {
      if (c === 'readBase') setTimeout(() => (m.delayMs = {}), 0);
    };
    m.place(CARD);
    await until(() => seen.creds.length === 1, 5_000, 'tap after a timed-out read');
    expect(seen.rejected).toContain('sam: no answer');
    expect(seen.rejected).toContain('sam: unexpected frame');
    await polls(m, 3);
    expect(seen.creds).toEqual([{ kind: 'id', number: '11010519491231002X' }]);
  });

  it('unplug → reader_status down; replug on the same path → reconnects; the card left on is not a new tap, lifting and placing is', async () => {
    const m = await plug();
    const { seen, reader } = await gateReader();
    m.place(CARD);
    await until(() => seen.creds.length === 1);

    await mod!.stop();
    mod = undefined;
    await pair!.stop();
    pair = undefined;
    await until(() => !reader.connected);
    expect(seen.status.at(-1)).toEqual([false, 'disconnected']);
    await sleep(500); // reopen attempts fail while the link is gone
    expect(seen.status.filter(([c]) => !c)).toHaveLength(1);

    const m2 = await plug();
    m2.place(CARD);
    await until(() => reader.connected, 5_000, 'reconnected');
    expect(seen.status.at(-1)).toEqual([true, 'SAM module ready']);
    await polls(m2, 4);
    expect(seen.creds).toHaveLength(1);

    m2.remove();
    await polls(m2, 2);
    m2.place(CARD);
    await until(() => seen.creds.length === 2);
  });

  it('another document on the reader (the 2017 foreign permanent resident card) is one rejected read per placement, and the desk says why', async () => {
    const m = await plug();
    // The module answers with the card-type mark I at byte 248 of the text (14 bytes into the frame: preamble, length, SW, lengths).
    m.tamper = (frame, c) => {
      if (c !== 'readBase') return undefined;
      const body = Buffer.from(frame.subarray(7, frame.length - 1));
      body.writeUInt16LE('I'.charCodeAt(0), 3 + 4 + CARD_TYPE_OFFSET);
      return encodeFrame(body);
    };
    const { seen, lines } = await gateReader();
    m.place(CARD);
    await until(() => seen.rejected.length > 0);
    await polls(m, 3);
    expect(seen.rejected).toEqual(['sam: a foreign permanent resident ID card (2017 layout): not supported']);
    expect(seen.creds).toHaveLength(0);
    expect(lines.join('')).not.toMatch(/张三|11010519|北京/);
    for (const stop of stops.splice(0).reverse()) await stop();

    const desk = new SamDeskReader({ id: 'desk', path: pair!.readerPath, baudRate: 115_200, pollMs: 40 }, { log: capturedLog().log });
    const refused: string[] = [];
    const cards: DeskIdCard[] = [];
    desk.on('refused', (r) => refused.push(r));
    desk.on('card', (c) => cards.push(c));
    await desk.start();
    stops.push(() => desk.stop());
    await until(() => refused.length === 1);
    expect(refused[0]).toBe('sam: a foreign permanent resident ID card (2017 layout): not supported');
    m.tamper = undefined;
    m.remove();
    await polls(m, 2);
    m.place(CARD);
    await until(() => cards.length === 1);
    expect(refused).toHaveLength(1);
  });

  it('a desk reader hands on name, number and validity end only, for an expired card too (the desk route refuses it), and for a full-width name with surrogate pairs', async () => {
    const m = await plug();
    const { log, lines } = capturedLog();
    const desk = new SamDeskReader({ id: 'desk', path: pair!.readerPath, baudRate: 115_200, pollMs: 40 }, { log });
    const cards: DeskIdCard[] = [];
    desk.on('card', (c) => cards.push(c));
    await desk.start();
    stops.push(() => desk.stop());
    m.place({ ...CARD, validFrom: '20000101', validTo: '20200101' });
    await until(() => cards.length === 1);
    expect(cards[0]).toEqual({ name: '张三', number: '11010519491231002X', validTo: '2020-01-01' });
    m.remove();
    await polls(m, 2);
    m.place({ ...OTHER, name: '𠀀𪚥' + '王'.repeat(11), validTo: '长期' });
    await until(() => cards.length === 2);
    expect(cards[1]).toEqual({ name: '𠀀𪚥' + '王'.repeat(11), number: '110105194912310029', validTo: 'long-term' });
    expect(lines.join('')).not.toMatch(/张三|王王|11010519|北京/);
  });
});

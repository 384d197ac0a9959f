/**
 * NfcReader against a fake nfc-pcsc at the library seam, for the failure
 * modes the real pcscd + vpcd stack cannot be made to produce on demand
 * (pcsc.test.ts covers the real path): nfc-pcsc emitting an Error as the
 * event name, a connect or GET DATA that never answers, field flicker.
 * "pcscd" here is a plain unix socket server, which is all the probe needs.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NfcContext, NfcDevice } from '../../../src/drivers/nfc/nfc-pcsc.js';
import { NfcReader } from '../../../src/drivers/nfc/nfc-reader.js';
import type { RawCredential } from '../../../src/drivers/types.js';

const PRESENT = 0x20;

class FakeCardReader extends EventEmitter {
  readonly SCARD_STATE_PRESENT = PRESENT;
  closed = false;
  constructor(readonly name: string) {
    super();
  }
  close() {
    this.closed = true;
  }
}

class FakeDevice extends EventEmitter {
  autoProcessing = true;
  readonly reader: FakeCardReader;
  /** What transmit answers; undefined = never answers. */
  answer: Buffer | undefined = Buffer.from('04A1B2C3D4E5F69000', 'hex');
  sent: Buffer[] = [];
  constructor(readonly name: string) {
    super();
    this.reader = new FakeCardReader(name);
  }
  transmit(data: Buffer): Promise<Buffer> {
    this.sent.push(data);
    const a = this.answer;
    return a ? Promise.resolve(a) : new Promise(() => {});
  }
  /** As nfc-pcsc does: pcsclite status PRESENT, connect, then 'card'. */
  tap() {
    this.reader.emit('status', { state: PRESENT });
    this.emit('card', { atr: Buffer.from('3B8F8001804F0CA000000306030001000000006A', 'hex') });
  }
  lift() {
    this.reader.emit('status', { state: 0 });
    this.emit('card.off', {});
  }
}

class FakeNfc extends EventEmitter implements NfcContext {
  closed = false;
  close() {
    this.closed = true;
  }
}

let dir: string;
let server: Server;
let socketPath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gate-nfc-'));
  socketPath = join(dir, 'pcscd.comm');
  server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(socketPath, r));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function setup(opts: { name?: string; repeatMs?: number; createNfc?: () => NfcContext } = {}) {
  const contexts: FakeNfc[] = [];
  let now = 0;
  const reader = new NfcReader(
    { id: 'entry', direction: 'in', name: opts.name, repeatMs: opts.repeatMs ?? 500 },
    {
      log: pino({ level: 'silent' }),
      clock: () => now,
      socketPath,
      cardTimeoutMs: 80,
      backoff: { initialMs: 20, maxMs: 40 },
      createNfc:
        opts.createNfc ??
        (() => {
          const c = new FakeNfc();
          contexts.push(c);
          return c;
        }),
    },
  );
  const creds: Array<[RawCredential, number]> = [];
  const rejected: string[] = [];
  const status: Array<[boolean, string]> = [];
  reader.on('credential', (c, at) => creds.push([c, at]));
  reader.on('rejected', (r) => rejected.push(r));
  reader.on('status', (c, d) => status.push([c, d]));
  const attach = (name = 'ACS ACR122U PICC Interface 00 00') => {
    const d = new FakeDevice(name);
    contexts.at(-1)!.emit('reader', d as unknown as NfcDevice);
    return d;
  };
  return { reader, contexts, creds, rejected, status, attach, setNow: (t: number) => (now = t) };
}

const flush = () => new Promise((r) => setTimeout(r, 5));

describe('NfcReader (fake nfc-pcsc)', () => {
  it('turns autoProcessing off, sends GET DATA itself, emits the UID', async () => {
    const s = setup();
    await s.reader.start();
    const d = s.attach();
    expect(d.autoProcessing).toBe(false);
    s.setNow(1234);
    d.tap();
    await flush();
    expect(s.creds).toEqual([[{ kind: 'card', uid: '04A1B2C3D4E5F6' }, 1234]]);
    expect(d.sent.map((b) => b.toString('hex'))).toEqual(['ffca000000']);
    await s.reader.stop();
  });

  it('folds a flicker (lift + tap inside repeatMs) into one tap; a later tap counts', async () => {
    const s = setup({ repeatMs: 500 });
    await s.reader.start();
    const d = s.attach();
    d.tap();
    await flush();
    s.setNow(100);
    d.lift();
    s.setNow(150);
    d.tap();
    await flush();
    expect(s.creds).toHaveLength(1);
    s.setNow(900);
    d.lift();
    d.tap();
    await flush();
    expect(s.creds.map(([, at]) => at)).toEqual([0, 900]);
    await s.reader.stop();
  });

  it('an Error emitted as the event name (nfc-pcsc Reader.js) is a rejection, not lost', async () => {
    const s = setup();
    await s.reader.start();
    const d = s.attach();
    d.reader.emit('status', { state: PRESENT });
    d.emit(new Error('An error occurred while connecting.') as unknown as string);
    await flush();
    expect(s.rejected).toEqual(['card not readable: An error occurred while connecting.']);
    await new Promise((r) => setTimeout(r, 120)); // the connect watchdog was cleared: no second rejection
    expect(s.rejected).toHaveLength(1);
    d.lift();
    d.tap();
    await flush();
    expect(s.creds).toHaveLength(1);
    await s.reader.stop();
  });

  it('a present card that never connects, or never answers GET DATA, is rejected after the timeout', async () => {
    const s = setup();
    await s.reader.start();
    const d = s.attach();
    d.reader.emit('status', { state: PRESENT });
    await new Promise((r) => setTimeout(r, 120));
    expect(s.rejected).toEqual(['card not readable: no connection in time']);
    d.lift();
    d.answer = undefined;
    d.tap();
    await new Promise((r) => setTimeout(r, 120));
    expect(s.rejected).toEqual(['card not readable: no connection in time', 'GET DATA: no answer in time']);
    expect(s.creds).toEqual([]);
    await s.reader.stop();
  });

  it('ignores readers not matching cfg.name, still disarming their autoProcessing and errors', async () => {
    const s = setup({ name: 'ACR122U' });
    await s.reader.start();
    const other = s.attach('Generic CCID Reader 00 00');
    expect(other.autoProcessing).toBe(false);
    expect(s.reader.connected).toBe(false);
    expect(() => other.emit('error', new Error('boom'))).not.toThrow();
    other.tap();
    await flush();
    expect(s.creds).toEqual([]);
    const mine = s.attach('ACS ACR122U PICC Interface 00 00');
    expect(s.reader.connected).toBe(true);
    mine.tap();
    await flush();
    expect(s.creds).toHaveLength(1);
    await s.reader.stop();
  });

  it('reader attach/detach → status; a pcsc context error → rebuilt context, same reader object', async () => {
    const s = setup();
    await s.reader.start();
    const d = s.attach('ACS ACR122U PICC Interface 00 00');
    d.emit('end');
    expect(s.status).toEqual([
      [false, 'pcscd up, no reader attached'],
      [true, 'reader attached: ACS ACR122U PICC Interface 00 00'],
      [false, 'reader detached: ACS ACR122U PICC Interface 00 00'],
    ]);
    const d2 = s.attach();
    expect(s.reader.connected).toBe(true);
    s.contexts[0]!.emit('error', new Error('SCardGetStatusChange error: RPC transport error.(0x80100013)'));
    expect(s.reader.connected).toBe(false);
    expect(s.status.at(-1)).toEqual([false, 'pcscd connection lost']);
    expect(s.contexts[0]!.closed).toBe(true);
    expect(d2.reader.closed).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.contexts).toHaveLength(2);
    s.attach().tap();
    await flush();
    expect(s.creds).toHaveLength(1);
    await s.reader.stop();
  });

  it('a throwing NFC constructor is reported and retried, never thrown from start()', async () => {
    let calls = 0;
    const s = setup({
      createNfc: () => {
        calls++;
        throw new Error('SCardEstablishContext: Service not available.');
      },
    });
    await s.reader.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBeGreaterThan(1);
    expect(s.status).toEqual([[false, 'pcsc unavailable: SCardEstablishContext: Service not available.']]);
    await s.reader.stop();
    const after = calls;
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(after);
  });
});

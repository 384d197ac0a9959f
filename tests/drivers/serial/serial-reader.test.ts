/**
 * SerialReader on @serialport/binding-mock, fed raw bytes as a reader sends
 * them. The mock has no unplug: `unplug()` fails the pending read the way the
 * native binding does when a USB adapter vanishes (EIO), and removes the port
 * so reopening fails until it is created again (the by-id link is back).
 */
import { MockBinding, type MockPortBinding } from '@serialport/binding-mock';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SerialReader, type SerialBinding } from '../../../src/drivers/serial/serial-reader.js';
import type { RawCredential } from '../../../src/drivers/types.js';
import type { ReaderConfig } from '../../../src/config.js';
import { until } from '../../helpers/until.js';

const PATH = '/dev/serial/by-id/usb-FAKE_Reader-if00-port0';
/** The line formats (a `sam` reader is SamGateReader's, not SerialReader's). */
type LineFormat = Exclude<ReaderConfig['format'], 'sam'>;

/** MockBinding that remembers the port bindings it opened, so tests can emit data. */
function recordingBinding() {
  const opened: MockPortBinding[] = [];
  const binding = {
    ...MockBinding,
    async open(opts: Parameters<typeof MockBinding.open>[0]) {
      const port = await MockBinding.open(opts);
      opened.push(port);
      return port;
    },
  } as unknown as SerialBinding;
  return { binding, opened };
}

function unplug(port: MockPortBinding): void {
  MockBinding.reset();
  const pending = (port as unknown as { pendingRead: ((err?: Error) => void) | null }).pendingRead;
  pending?.(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
}

function makeReader(format: LineFormat, extra: { repeatMs?: number; flushMs?: number } = {}) {
  const { binding, opened } = recordingBinding();
  const reader = new SerialReader(
    { id: 'exit', direction: 'out', path: PATH, baudRate: 9600, format, repeatMs: extra.repeatMs ?? 0 },
    { log: pino({ level: 'silent' }), binding, flushMs: extra.flushMs ?? 1_000, backoff: { initialMs: 20, maxMs: 80 } },
  );
  const creds: RawCredential[] = [];
  const rejected: string[] = [];
  const status: Array<[boolean, string]> = [];
  reader.on('credential', (c) => creds.push(c));
  reader.on('rejected', (r) => rejected.push(r));
  reader.on('status', (c, d) => status.push([c, d]));
  const port = () => opened.at(-1)!;
  return { reader, opened, port, creds, rejected, status };
}

const uids = (creds: RawCredential[]) => creds.map((c) => (c.kind === 'card' ? c.uid : c.kind));

describe('SerialReader on binding-mock', () => {
  beforeEach(() => MockBinding.createPort(PATH, { echo: false, record: true }));
  afterEach(() => MockBinding.reset());

  it('opens at the configured baud rate and reports status', async () => {
    const r = makeReader('hex');
    await r.reader.start();
    expect(r.reader.connected).toBe(true);
    expect(r.port().openOptions.baudRate).toBe(9600);
    expect(r.status).toEqual([[true, 'port open']]);
    await r.reader.stop();
    expect(r.status.at(-1)).toEqual([false, 'stopped']);
  });

  it('reads a line split over two chunks, two lines in one chunk, CRLF and CR-only', async () => {
    const r = makeReader('hex');
    await r.reader.start();
    r.port().emitData(Buffer.from('04A1'));
    r.port().emitData(Buffer.from('B2C3\r\n'));
    r.port().emitData(Buffer.from('05A1B2C3\r\n06:A1:B2:C3\r'));
    r.port().emitData(Buffer.from('07a1b2c3\n'));
    await until(() => r.creds.length === 4);
    expect(uids(r.creds)).toEqual(['04A1B2C3', '05A1B2C3', '06A1B2C3', '07A1B2C3']);
    expect(r.rejected).toEqual([]);
    await r.reader.stop();
  });

  it('rejects garbage and an over-long line, then reads the next good line', async () => {
    const r = makeReader('hex');
    await r.reader.start();
    r.port().emitData(Buffer.from([0xff, 0x00, 0xfe, 0x0d, 0x0a]));
    r.port().emitData(Buffer.from('A'.repeat(5000) + '\r\n'));
    r.port().emitData(Buffer.from('not hex\r\n04A1B2C3\r\n'));
    await until(() => r.creds.length === 1);
    expect(uids(r.creds)).toEqual(['04A1B2C3']);
    expect(r.rejected).toEqual(['non-printable bytes', 'line too long', 'bad hex: not hex digits']);
    await r.reader.stop();
  });

  it('rejects a half line after the flush timeout; the next line is read alone', async () => {
    const r = makeReader('hex', { flushMs: 60 });
    await r.reader.start();
    r.port().emitData(Buffer.from('04A1B2'));
    await until(() => r.rejected.length === 1);
    expect(r.rejected).toEqual(['incomplete line']);
    r.port().emitData(Buffer.from('C3D4E5F6\r\n'));
    await until(() => r.creds.length === 1);
    expect(uids(r.creds)).toEqual(['C3D4E5F6']);
    await r.reader.stop();
  });

  it('parses each configured format', async () => {
    const cases: Array<[LineFormat, string, RawCredential]> = [
      ['dec', '0012345678\r\n', { kind: 'card', uid: '00BC614E' }],
      ['wiegand26', '123:45678\r\n', { kind: 'card', uid: '7BB26E' }],
      ['id', '11010519491231002X\r\n', { kind: 'id', number: '11010519491231002X' }],
      ['qr', `GP1.${'e'.repeat(3500)}.c2ln\r\n`, { kind: 'pass', token: `GP1.${'e'.repeat(3500)}.c2ln` }],
    ];
    for (const [format, line, cred] of cases) {
      const r = makeReader(format);
      await r.reader.start();
      r.port().emitData(Buffer.from(line));
      await until(() => r.creds.length === 1);
      expect(r.creds).toEqual([cred]);
      await r.reader.stop();
    }
  });

  it('folds repeated reads of one card inside repeatMs into one tap', async () => {
    const r = makeReader('hex', { repeatMs: 300 });
    await r.reader.start();
    r.port().emitData(Buffer.from('04A1B2C3\r\n04A1B2C3\r\n04A1B2C3\r\n'));
    await until(() => r.creds.length >= 1);
    await new Promise((res) => setTimeout(res, 350));
    r.port().emitData(Buffer.from('04A1B2C3\r\n'));
    await until(() => r.creds.length === 2);
    expect(uids(r.creds)).toEqual(['04A1B2C3', '04A1B2C3']);
    await r.reader.stop();
  });

  it('on unplug: status false, retries with back-off, reopens by itself with a fresh framer', async () => {
    const r = makeReader('hex');
    await r.reader.start();
    const first = r.port();
    first.emitData(Buffer.from('04A1B2C3\r\n0000')); // half line cut by the unplug
    await until(() => r.creds.length === 1);
    unplug(first);
    await until(() => !r.reader.connected);
    expect(r.status.at(-1)).toEqual([false, 'disconnected']);
    await until(() => r.rejected.length === 1);
    expect(r.rejected).toEqual(['incomplete line']);
    await new Promise((res) => setTimeout(res, 200)); // several failed reopen attempts
    expect(r.status.filter(([c]) => !c)).toHaveLength(1); // one report per outage
    MockBinding.createPort(PATH, { echo: false, record: true }); // plugged back in
    await until(() => r.reader.connected);
    expect(r.opened.length).toBe(2);
    r.port().emitData(Buffer.from('1111\r\n05A1B2C3\r\n')); // "1111" alone: the old half line was dropped
    await until(() => r.creds.length === 2);
    expect(uids(r.creds)).toEqual(['04A1B2C3', '05A1B2C3']);
    expect(r.rejected).toEqual(['incomplete line', 'bad hex: 2 bytes, expected 4..20']);
    await r.reader.stop();
  });

  it('a missing device at start reports status false and connects when it appears; stop() stops retrying', async () => {
    MockBinding.reset();
    const r = makeReader('hex');
    await r.reader.start();
    expect(r.reader.connected).toBe(false);
    expect(r.status).toHaveLength(1);
    expect(r.status[0]![0]).toBe(false);
    expect(r.status[0]![1]).toMatch(/^open failed: /);
    MockBinding.createPort(PATH, { echo: false, record: true });
    await until(() => r.reader.connected);
    await r.reader.stop();

    MockBinding.reset();
    const r2 = makeReader('hex');
    await r2.reader.start();
    await r2.reader.stop();
    MockBinding.createPort(PATH, { echo: false, record: true });
    await new Promise((res) => setTimeout(res, 200));
    expect(r2.reader.connected).toBe(false);
    expect(r2.opened).toHaveLength(0);
  });
});

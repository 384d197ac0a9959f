import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { buildReaders } from '../../../src/drivers/readers/index.js';
import type { CredentialReader, RawCredential } from '../../../src/drivers/types.js';

function capturingLogger() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, dest), lines };
}

function record(reader: CredentialReader) {
  const creds: Array<[RawCredential, number]> = [];
  const rejected: string[] = [];
  const status: Array<[boolean, string]> = [];
  reader.on('credential', (c, at) => creds.push([c, at]));
  reader.on('rejected', (r) => rejected.push(r));
  reader.on('status', (c, d) => status.push([c, d]));
  return { creds, rejected, status };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('sim reader (buildReaders type sim)', () => {
  it('auto-detects id, pass and card lines, rejects the rest, logs no content', async () => {
    const input = new PassThrough();
    let now = 1_000;
    const { log, lines } = capturingLogger();
    const [reader] = buildReaders([{ id: 'sim1', type: 'sim', use: 'gate', direction: 'in', baudRate: 9600, format: 'hex', repeatMs: 1500, pollMs: 250 }], {
      log,
      clock: () => now,
      input,
    });
    const seen = record(reader!);
    await reader!.start();
    expect(reader!.connected).toBe(true);
    expect(seen.status).toEqual([[true, 'reading lines from the terminal']]);

    input.write('11010519491231002X\n');
    input.write('GP1.eyJhIjoxfQ.c2ln\r\n04a1b2c3\n');
    input.write('hello world\n');
    input.write(Buffer.from([0x01, 0x7f, 0x41, 0x0a]));
    await tick();
    expect(seen.creds).toEqual([
      [{ kind: 'id', number: '11010519491231002X' }, 1000],
      [{ kind: 'pass', token: 'GP1.eyJhIjoxfQ.c2ln' }, 1000],
      [{ kind: 'card', uid: '04A1B2C3' }, 1000],
    ]);
    expect(seen.rejected).toEqual([
      'unrecognized input: expected a card UID (hex), an 18-character ID number or a GP1 pass',
      'non-printable bytes',
    ]);
    const logText = lines.join('');
    expect(logText).toContain('reader input rejected');
    expect(logText).not.toContain('hello');
    expect(logText).not.toContain('11010519491231002X');

    await reader!.stop();
    expect(reader!.connected).toBe(false);
    expect(seen.status.at(-1)).toEqual([false, 'stopped']);
    input.write('04A1B2C4\n');
    await tick();
    expect(seen.creds).toHaveLength(3);
  });

  it('folds repeats of one credential inside repeatMs into one tap (sliding window)', async () => {
    const input = new PassThrough();
    let now = 0;
    const [reader] = buildReaders([{ id: 's', type: 'sim', use: 'gate', direction: 'out', baudRate: 9600, format: 'hex', repeatMs: 1000, pollMs: 250 }], {
      log: pino({ level: 'silent' }),
      clock: () => now,
      input,
    });
    const seen = record(reader!);
    await reader!.start();
    for (const t of [0, 400, 800, 1200]) {
      now = t;
      input.write('04A1B2C3\n');
      await tick();
    }
    now = 1300;
    input.write('05A1B2C3\n'); // another card is its own tap
    await tick();
    now = 2300; // 1100 ms after the last repeat of 04A1B2C3
    input.write('04:a1:b2:c3\n'); // same card, other spelling
    await tick();
    expect(seen.creds.map(([c, at]) => [(c as { uid: string }).uid, at])).toEqual([
      ['04A1B2C3', 0],
      ['05A1B2C3', 1300],
      ['04A1B2C3', 2300],
    ]);
    await reader!.stop();
  });

  it('reports status false when its input ends', async () => {
    const input = new PassThrough();
    const [reader] = buildReaders([{ id: 's', type: 'sim', use: 'gate', direction: 'in', baudRate: 9600, format: 'hex', repeatMs: 0, pollMs: 250 }], {
      log: pino({ level: 'silent' }),
      input,
    });
    const seen = record(reader!);
    await reader!.start();
    input.end('04A1B2C3\n');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.creds).toHaveLength(1);
    expect(seen.status).toEqual([
      [true, 'reading lines from the terminal'],
      [false, 'input closed'],
    ]);
    await reader!.stop();
  });
});

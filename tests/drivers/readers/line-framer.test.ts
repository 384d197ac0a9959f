import { describe, expect, it } from 'vitest';
import { LineFramer, type FramedLine } from '../../../src/drivers/readers/line-framer.js';

/** Feed chunks (each written separately) and collect what comes out. */
function frame(chunks: (string | Buffer)[], opts: { maxLine?: number; flushMs?: number } = {}): FramedLine[] {
  const out: FramedLine[] = [];
  const f = new LineFramer({ maxLine: opts.maxLine ?? 64, flushMs: opts.flushMs ?? 10_000, clock: () => 42 });
  f.on('data', (x: FramedLine) => out.push(x));
  for (const c of chunks) f.write(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  f.destroy();
  return out;
}
const line = (text: string) => ({ type: 'line', text, at: 42 });
const rej = (reason: string, length: number) => ({ type: 'rejected', reason, length, at: 42 });

describe('LineFramer', () => {
  it('ends lines on \\r\\n, \\n and a lone \\r', () => {
    expect(frame(['AAAA\r\nBBBB\nCCCC\rDDDD\r\n'])).toEqual([line('AAAA'), line('BBBB'), line('CCCC'), line('DDDD')]);
  });
  it('joins a line split over chunks, also a \\r\\n split between chunks', () => {
    expect(frame(['04A1', 'B2C3\r', '\n05A1B2C3\n'])).toEqual([line('04A1B2C3'), line('05A1B2C3')]);
  });
  it('emits two lines from one chunk and skips empty lines', () => {
    expect(frame(['\r\n\r\nAAAA\r\n\r\n\nBBBB\r\n'])).toEqual([line('AAAA'), line('BBBB')]);
  });
  it('rejects a line holding non-printable bytes whole, then reads the next line', () => {
    const garbage = Buffer.from([0x00, 0xff, 0x81, 0x41]);
    expect(frame([garbage, 'B2C3\r\n04A1B2C3\r\n'])).toEqual([rej('non-printable bytes', 8), line('04A1B2C3')]);
    expect(frame(['04A1\x00B2C3\n'])).toEqual([rej('non-printable bytes', 9)]);
  });
  it('STX starts a fresh frame: garbage before it is rejected, the frame is read', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0x00]), Buffer.from('\x0204A1B2C3\r\n\x03', 'latin1')]);
    expect(frame([bytes])).toEqual([rej('non-printable bytes', 2), line('04A1B2C3')]);
    expect(frame(['12\x0204A1B2C3\x03'])).toEqual([rej('incomplete line', 2), line('04A1B2C3')]);
  });
  it('reports an over-long line once, skips to its end, keeps memory bounded', () => {
    const out = frame(['X'.repeat(10), 'X'.repeat(1000), 'X'.repeat(1000), '\r\nAAAA\r\n'], { maxLine: 16 });
    expect(out).toEqual([rej('line too long', 17), line('AAAA')]);
    expect(frame(['X'.repeat(16) + '\n'], { maxLine: 16 })).toEqual([line('X'.repeat(16))]);
  });
  it('rejects a half line after the flush timeout, then reads the next line', async () => {
    const out: FramedLine[] = [];
    const f = new LineFramer({ maxLine: 64, flushMs: 50, clock: () => 7 });
    f.on('data', (x: FramedLine) => out.push(x));
    f.write(Buffer.from('04A1B2'));
    await new Promise((r) => setTimeout(r, 20));
    f.write(Buffer.from('C3')); // still within the silence window: same line
    await new Promise((r) => setTimeout(r, 120));
    expect(out).toEqual([{ type: 'rejected', reason: 'incomplete line', length: 8, at: 7 }]);
    f.write(Buffer.from('05A1B2C3\r\n'));
    expect(out[1]).toEqual({ type: 'line', text: '05A1B2C3', at: 7 });
    f.destroy();
  });
  it('rejects a half line at the end of the stream', async () => {
    const out: FramedLine[] = [];
    const f = new LineFramer({ maxLine: 64, clock: () => 1 });
    f.on('data', (x: FramedLine) => out.push(x));
    f.end(Buffer.from('AAAA\r\nBB'));
    await new Promise((r) => f.once('end', r));
    expect(out).toEqual([
      { type: 'line', text: 'AAAA', at: 1 },
      { type: 'rejected', reason: 'incomplete line', length: 2, at: 1 },
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { LineBounds } from '../../../src/drivers/readers/line-bounds.js';
import { LineFramer, type FramedLine } from '../../../src/drivers/readers/line-framer.js';

/** What LineBounds hands to ReadlineParser for the given chunks. */
function bounded(chunks: (string | Buffer)[], maxLine = 16): Buffer {
  const parts: Buffer[] = [];
  const b = new LineBounds({ maxLine, flushMs: 10_000 });
  b.on('data', (x: Buffer) => parts.push(x));
  for (const c of chunks) b.write(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  b.destroy();
  return Buffer.concat(parts);
}

describe('LineBounds (the pre-stage in front of ReadlineParser)', () => {
  it('folds \\r\\n, lone \\r and ETX into \\n and drops empty lines', () => {
    expect(bounded(['AA\r\nBB\rCC\x03\r\n\n\rDD\n']).toString('latin1')).toBe('AA\nBB\nCC\nDD\n');
  });

  it('never lets ReadlineParser hold more than maxLine + a mark between delimiters', () => {
    const noise = Buffer.alloc(1_000_000, 0x41); // a megabyte with no line end
    const out = bounded([noise, noise, '\r\nAAAA\r\n'], 16);
    const pieces = out.toString('latin1').split('\n');
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(16 + 2 + 7);
    expect(pieces).toEqual(['A'.repeat(16) + '\x00L17', 'AAAA', '']);
  });

  it('a NUL on the wire cannot forge a mark: it becomes SUB and the line is non-printable', () => {
    expect(bounded(['AB\x00L99\n'])).toEqual(Buffer.from('AB\x1aL99\n', 'latin1'));
    const out: FramedLine[] = [];
    const f = new LineFramer({ maxLine: 64, clock: () => 3 });
    f.on('data', (x: FramedLine) => out.push(x));
    f.write(Buffer.from('AB\x00L99\n04A1B2C3\n', 'latin1'));
    f.destroy();
    expect(out).toEqual([
      { type: 'rejected', reason: 'non-printable bytes', length: 6, at: 3 },
      { type: 'line', text: '04A1B2C3', at: 3 },
    ]);
  });

  it('a garbage line longer than maxLine is rejected once and the next line is read', () => {
    const out: FramedLine[] = [];
    const f = new LineFramer({ maxLine: 8, clock: () => 1 });
    f.on('data', (x: FramedLine) => out.push(x));
    f.write(Buffer.concat([Buffer.alloc(5000, 0xff), Buffer.from('\r\n04A1B2C3\r\n')]));
    f.destroy();
    expect(out).toEqual([
      { type: 'rejected', reason: 'non-printable bytes', length: 9, at: 1 },
      { type: 'line', text: '04A1B2C3', at: 1 },
    ]);
  });
});

/**
 * Byte stream → text lines, for serial readers and the terminal simulator:
 *
 *   LineBounds  →  ReadlineParser({ delimiter: '\n' })  →  printable check
 *
 * @serialport/parser-readline does the splitting. LineBounds in front of it
 * (see line-bounds.ts for why it exists) folds every line end into "\n",
 * caps the line length so ReadlineParser's buffer stays bounded, and ends
 * half lines after `flushMs` of silence. After the split, whatever cannot be
 * a credential becomes a `rejected` item instead of a line:
 * - over `maxLine` bytes: 'line too long', reported once, the rest skipped;
 * - a non-printable byte anywhere: the whole line is rejected ('non-printable
 *   bytes'), because the printable tail of a corrupted frame could look like
 *   another valid card;
 * - a half line (silence, STX, end of stream): 'incomplete line', so a line
 *   cut by an unplug never glues onto the next one.
 * All three stages run synchronously inside one write(), so lines and
 * rejections come out in wire order.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { ReadlineParser } from '@serialport/parser-readline';
import type { Clock } from '../../types.js';
import { LineBounds, MARK, MARK_TOO_LONG } from './line-bounds.js';

export type FramedLine =
  | { type: 'line'; text: string; at: number }
  | { type: 'rejected'; reason: RejectReason; length: number; at: number };

export const REJECT = {
  tooLong: 'line too long',
  nonPrintable: 'non-printable bytes',
  incomplete: 'incomplete line',
} as const;
export type RejectReason = (typeof REJECT)[keyof typeof REJECT];

export interface LineFramerOptions {
  /** Longest accepted line in bytes, terminator excluded. */
  maxLine: number;
  /** Silence after a half line before it is rejected. */
  flushMs?: number;
  clock?: Clock;
}

const PRINTABLE = /^[\x20-\x7e]*$/;

export class LineFramer extends Transform {
  private readonly clock: Clock;
  private readonly bounds: LineBounds;
  private readonly readline: ReadlineParser;

  constructor(opts: LineFramerOptions) {
    super({ readableObjectMode: true });
    this.clock = opts.clock ?? Date.now;
    this.bounds = new LineBounds({ maxLine: opts.maxLine, flushMs: opts.flushMs ?? 500 });
    // latin1: one char per byte, so lengths and the printable check see raw bytes.
    this.readline = new ReadlineParser({ delimiter: '\n', encoding: 'latin1' });
    this.bounds.on('data', (bytes: Buffer) => this.readline.write(bytes));
    this.readline.on('data', (text: string) => {
      const item = classify(text, this.clock());
      if (item) this.push(item);
    });
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bounds.write(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.bounds.endHalfLine();
    this.bounds.destroy();
    this.readline.destroy();
    cb();
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.bounds.destroy();
    this.readline.destroy();
    cb(err);
  }
}

/** One ReadlineParser line (data, maybe ended by a LineBounds mark) → what it is. */
export function classify(text: string, at: number): FramedLine | undefined {
  const mark = text.indexOf(MARK);
  const body = mark < 0 ? text : text.slice(0, mark);
  const length = mark < 0 ? body.length : Number(text.slice(mark + 2));
  if (!PRINTABLE.test(body)) return { type: 'rejected', reason: REJECT.nonPrintable, length, at };
  if (mark < 0) return body ? { type: 'line', text: body, at } : undefined;
  const reason = text[mark + 1] === MARK_TOO_LONG ? REJECT.tooLong : REJECT.incomplete;
  return { type: 'rejected', reason, length, at };
}

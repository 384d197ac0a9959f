/**
 * Byte stream → text lines, for serial readers and the terminal simulator.
 *
 * Readers end lines with "\r\n", "\n" or a lone "\r"; some wrap each frame in
 * STX (0x02) … ETX (0x03). All are accepted. Whatever cannot be a credential
 * is turned into a `rejected` item instead of a line, and the framer is always
 * ready for the next line afterwards:
 * - a line longer than `maxLine` is reported once ('line too long') and the
 *   rest of it is skipped up to the next line end; memory stays bounded;
 * - a line holding a non-printable byte is rejected whole ('non-printable
 *   bytes'): the printable tail of a corrupted frame could look like another
 *   valid card, so it is never trusted. STX starts a fresh frame;
 * - a half line followed by `flushMs` of silence is rejected ('incomplete
 *   line'), so a line cut by an unplug cannot glue onto the next one.
 * @serialport/parser-readline handles none of these (one delimiter, unbounded
 * buffer, no timeout), hence this framer.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { Clock } from '../types.js';

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

const LF = 0x0a;
const CR = 0x0d;
const STX = 0x02;
const ETX = 0x03;

type State = 'clean' | 'poisoned' | 'overflow';

export class LineFramer extends Transform {
  private readonly maxLine: number;
  private readonly flushMs: number;
  private readonly clock: Clock;
  private readonly buf: Buffer;
  private len = 0;
  /** Bytes seen in the current line, kept even when not stored. */
  private seen = 0;
  private state: State = 'clean';
  private afterCR = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: LineFramerOptions) {
    super({ readableObjectMode: true });
    this.maxLine = opts.maxLine;
    this.flushMs = opts.flushMs ?? 500;
    this.clock = opts.clock ?? Date.now;
    this.buf = Buffer.alloc(opts.maxLine);
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    const at = this.clock();
    for (const b of bytes) this.takeByte(b, at);
    this.armFlushTimer();
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.clearTimer();
    this.abandon(this.clock());
    cb();
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.clearTimer();
    cb(err);
  }

  private takeByte(b: number, at: number): void {
    if (b === LF && this.afterCR) {
      this.afterCR = false; // second half of "\r\n"
      return;
    }
    this.afterCR = b === CR;
    if (b === LF || b === CR || b === ETX) {
      this.endLine(at);
      return;
    }
    if (b === STX) {
      this.abandon(at);
      return;
    }
    this.seen++;
    if (b < 0x20 || b > 0x7e) {
      if (this.state === 'clean') this.state = 'poisoned';
      return;
    }
    if (this.state !== 'clean') return;
    if (this.len >= this.maxLine) {
      this.state = 'overflow';
      this.push({ type: 'rejected', reason: REJECT.tooLong, length: this.seen, at } satisfies FramedLine);
      return;
    }
    this.buf[this.len++] = b;
  }

  private endLine(at: number): void {
    if (this.state === 'clean' && this.len > 0) {
      this.push({ type: 'line', text: this.buf.toString('latin1', 0, this.len), at } satisfies FramedLine);
    } else if (this.state === 'poisoned') {
      this.push({ type: 'rejected', reason: REJECT.nonPrintable, length: this.seen, at } satisfies FramedLine);
    }
    this.reset();
  }

  /** Drop a half line (silence, STX, end of stream), saying why. */
  private abandon(at: number): void {
    if (this.state === 'poisoned') {
      this.push({ type: 'rejected', reason: REJECT.nonPrintable, length: this.seen, at } satisfies FramedLine);
    } else if (this.state === 'clean' && this.len > 0) {
      this.push({ type: 'rejected', reason: REJECT.incomplete, length: this.seen, at } satisfies FramedLine);
    }
    this.reset();
  }

  private reset(): void {
    this.len = 0;
    this.seen = 0;
    this.state = 'clean';
  }

  private armFlushTimer(): void {
    this.clearTimer();
    if (this.seen === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.abandon(this.clock());
    }, this.flushMs);
    // A pending half line must not keep the process alive on shutdown.
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

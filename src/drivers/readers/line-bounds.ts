/**
 * The bounded pre-stage in front of @serialport/parser-readline.
 *
 * ReadlineParser splits on ONE delimiter, keeps whatever it has not split in
 * an unbounded buffer and never times out. Readers end lines with "\r\n",
 * "\n", a lone "\r" or STX … ETX frames, a noisy line can stream bytes with no
 * line end at all, and a line cut by an unplug would glue onto the next one.
 * So this stage, byte for byte, before ReadlineParser({ delimiter: '\n' }):
 * - maps "\r\n", a lone "\r" and ETX to "\n"; empty lines are dropped;
 * - counts the bytes of the current line: past `maxLine` it ends the line
 *   with a TOO_LONG mark and drops the rest up to the next line end, so
 *   ReadlineParser never holds more than `maxLine` + a mark;
 * - ends a half line with an INCOMPLETE mark after `flushMs` of silence, at
 *   STX (a fresh frame starts) and at the end of the stream.
 * A mark is NUL + 'L' or 'I' + the line's byte count + "\n". NUL in the data
 * is mapped to SUB (0x1A) so a mark can never be forged by the wire; both are
 * non-printable, so the line is rejected either way (see line-framer.ts).
 */
import { Transform, type TransformCallback } from 'node:stream';

export const MARK = '\x00';
export const MARK_TOO_LONG = 'L';
export const MARK_INCOMPLETE = 'I';

const LF = 0x0a;
const CR = 0x0d;
const STX = 0x02;
const ETX = 0x03;
const NUL = 0x00;
const SUB = 0x1a;

export interface LineBoundsOptions {
  /** Longest accepted line in bytes, terminator excluded. */
  maxLine: number;
  /** Silence after a half line before it is ended as incomplete. */
  flushMs: number;
}

export class LineBounds extends Transform {
  /** Bytes seen in the current line, also those dropped past maxLine. */
  private seen = 0;
  private skipping = false;
  private afterCR = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: LineBoundsOptions) {
    super();
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    const out: number[] = [];
    for (const b of bytes) this.takeByte(b, out);
    if (out.length) this.push(Buffer.from(out));
    this.armTimer();
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.endHalfLine();
    cb();
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.clearTimer();
    cb(err);
  }

  /** End a pending half line as incomplete (silence, end of stream, unplug). */
  endHalfLine(): void {
    this.clearTimer();
    const out: number[] = [];
    this.abandon(out);
    if (out.length) this.push(Buffer.from(out));
  }

  private takeByte(b: number, out: number[]): void {
    if (b === LF && this.afterCR) {
      this.afterCR = false; // second half of "\r\n"
      return;
    }
    this.afterCR = b === CR;
    if (b === LF || b === CR || b === ETX) {
      if (this.seen > 0 && !this.skipping) out.push(LF);
      this.reset();
    } else if (b === STX) {
      this.abandon(out);
    } else {
      this.seen++;
      if (this.skipping) return;
      if (this.seen > this.opts.maxLine) {
        this.mark(MARK_TOO_LONG, out);
        this.skipping = true;
        return;
      }
      out.push(b === NUL ? SUB : b);
    }
  }

  private abandon(out: number[]): void {
    if (this.seen > 0 && !this.skipping) this.mark(MARK_INCOMPLETE, out);
    this.reset();
  }

  private mark(kind: string, out: number[]): void {
    for (const c of Buffer.from(`${MARK}${kind}${this.seen}\n`, 'latin1')) out.push(c);
  }

  private reset(): void {
    this.seen = 0;
    this.skipping = false;
  }

  private armTimer(): void {
    this.clearTimer();
    if (this.seen === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.endHalfLine();
    }, this.opts.flushMs);
    // A pending half line must not keep the process alive on shutdown.
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

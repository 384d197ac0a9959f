/**
 * SAM reader frames, both directions:
 *
 *   AA AA AA 96 69 | LEN (2 bytes, big-endian) | body | CHK
 *
 * LEN counts the bytes after it, checksum included. CHK is the XOR of the two
 * length bytes and the body. A command body is CMD Para [data]; an answer
 * body is SW1 SW2 SW3 [data]. The module's commands and answers share this
 * shape, so one decoder serves the driver (answers) and the simulated module
 * (commands).
 *
 * FrameDecoder is a pure push parser: feed it whatever a read returned, in
 * any cut, and it hands back whole frames and rejections in wire order. It
 * resynchronises on the preamble: bytes before one are reported once as
 * garbage; a frame with a bad checksum or an impossible length is refused and
 * the search resumes one byte after its preamble, so a real frame hiding
 * inside the bad one's claimed length is still found.
 */
import { MAX_FRAME_LENGTH, PREAMBLE } from './protocol.js';

export type FrameItem =
  | { type: 'frame'; body: Buffer }
  | { type: 'rejected'; reason: FrameReject; length: number };

export const FRAME_REJECT = {
  garbage: 'sam: bytes outside a frame',
  badChecksum: 'sam: bad checksum',
  badLength: 'sam: impossible frame length',
  incomplete: 'sam: incomplete frame',
} as const;
export type FrameReject = (typeof FRAME_REJECT)[keyof typeof FRAME_REJECT];

/** XOR of the length bytes and the body: the frame's last byte. */
export function checksum(lenAndBody: Buffer, end = lenAndBody.length): number {
  let x = 0;
  for (let i = 0; i < end; i++) x ^= lenAndBody[i]!;
  return x;
}

/** A whole frame around `body` (a command's CMD Para [data], or an answer's SW1 SW2 SW3 [data]). */
export function encodeFrame(body: Buffer | readonly number[]): Buffer {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const len = b.length + 1;
  if (len > 0xffff) throw new RangeError(`frame body of ${b.length} bytes does not fit a 2-byte length`);
  const out = Buffer.allocUnsafe(PREAMBLE.length + 2 + len);
  PREAMBLE.copy(out, 0);
  out.writeUInt16BE(len, PREAMBLE.length);
  b.copy(out, PREAMBLE.length + 2);
  out[out.length - 1] = checksum(out.subarray(PREAMBLE.length), 2 + b.length);
  return out;
}

export interface FrameDecoderOptions {
  /** Smallest acceptable LEN (answers: 4, commands: 3). */
  minLength: number;
  /** Largest acceptable LEN (default 4096). */
  maxLength?: number;
}

export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private readonly minLength: number;
  private readonly maxLength: number;

  constructor(opts: FrameDecoderOptions) {
    this.minLength = opts.minLength;
    this.maxLength = opts.maxLength ?? MAX_FRAME_LENGTH;
  }

  /** Bytes held for an unfinished frame (or a possible preamble start). */
  get pending(): number {
    return this.buf.length;
  }

  /** Feed bytes as they arrived; returns what they completed, in wire order. */
  push(chunk: Buffer): FrameItem[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: FrameItem[] = [];
    for (;;) {
      const start = findPreamble(this.buf);
      if (start < 0) {
        // Keep a tail that could be the start of a preamble; the rest is garbage.
        const keep = preambleTail(this.buf);
        const drop = this.buf.length - keep;
        if (drop > 0) out.push({ type: 'rejected', reason: FRAME_REJECT.garbage, length: drop });
        this.buf = this.buf.subarray(drop);
        return out;
      }
      if (start > 0) {
        out.push({ type: 'rejected', reason: FRAME_REJECT.garbage, length: start });
        this.buf = this.buf.subarray(start);
      }
      const head = PREAMBLE.length + 2;
      if (this.buf.length < head) return out;
      const len = this.buf.readUInt16BE(PREAMBLE.length);
      if (len < this.minLength || len > this.maxLength) {
        out.push({ type: 'rejected', reason: FRAME_REJECT.badLength, length: head });
        this.buf = this.buf.subarray(1);
        continue;
      }
      if (this.buf.length < head + len) return out;
      const lenAndBody = this.buf.subarray(PREAMBLE.length, head + len);
      const chk = lenAndBody[lenAndBody.length - 1]!;
      if (checksum(lenAndBody, lenAndBody.length - 1) !== chk) {
        out.push({ type: 'rejected', reason: FRAME_REJECT.badChecksum, length: head + len });
        this.buf = this.buf.subarray(1);
        continue;
      }
      // Copy: the body must not pin (or alias) the receive buffer.
      out.push({ type: 'frame', body: Buffer.from(lenAndBody.subarray(2, lenAndBody.length - 1)) });
      this.buf = this.buf.subarray(head + len);
    }
  }

  /** Drop a half frame (silence, timeout, port closed); reported so it is never glued to later bytes. */
  reset(): FrameItem[] {
    const n = this.buf.length;
    this.buf = Buffer.alloc(0);
    return n > 0 ? [{ type: 'rejected', reason: FRAME_REJECT.incomplete, length: n }] : [];
  }
}

function findPreamble(buf: Buffer): number {
  return buf.indexOf(PREAMBLE);
}

/** Length of the longest suffix of `buf` that is a proper prefix of the preamble. */
function preambleTail(buf: Buffer): number {
  for (let k = Math.min(PREAMBLE.length - 1, buf.length); k > 0; k--) {
    if (buf.subarray(buf.length - k).equals(PREAMBLE.subarray(0, k))) return k;
  }
  return 0;
}

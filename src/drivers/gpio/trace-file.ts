/**
 * The simulated GPIO's record of every output change: one JSON line
 * `{"t":<epoch ms>,"line":"entry","active":true}` per write.
 *
 * Written with writeSync on an fd opened with 'a' (O_APPEND): when set()
 * returns, the line is in the kernel, so it survives a SIGKILL a microsecond
 * later, and successive runs append to the same file. The crash test reads
 * it to prove every relay pulse has its journal row. A SIGKILL can still cut
 * a record that straddles a page boundary (the kernel stops a write between
 * pages on a fatal signal); the campaign's reader knows that shape.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface TraceRecord {
  t: number;
  line: string;
  active: boolean;
}

export class TraceFile {
  private fd: number | undefined;

  constructor(readonly path: string) {}

  open(): void {
    if (this.fd !== undefined) return;
    mkdirSync(dirname(this.path), { recursive: true });
    this.fd = openSync(this.path, 'a');
  }

  append(rec: TraceRecord): void {
    if (this.fd === undefined) this.open();
    const line = Buffer.from(`${JSON.stringify({ t: rec.t, line: rec.line, active: rec.active })}\n`);
    // write(2) may return short; only a fatal signal leaves a record torn (the crash campaign reads those).
    for (let off = 0; off < line.length; ) off += writeSync(this.fd!, line, off);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Central's `events/ack {upTo}` messages, coalesced. Each ack is a signed
 * envelope whose Ed25519 check costs ~80 µs; acks that queued up while the
 * loop was busy arrive in one socket read, and checking them all in a row
 * held the loop for 20–40 ms (measured: a collector acking every live event
 * during a snapshot apply). Only the highest upTo matters, so the queued
 * acks are read unchecked for their upTo, and checked highest first: the
 * first that holds is applied and the lower ones are dropped as covered.
 * One that does not hold is reported as before and the next is tried, so a
 * forged high ack can never stand in for a real one.
 */
import type { Opened, RejectCode } from './inbound.js';

export interface AckCoalescerDeps {
  /** The full check (signature, schema). */
  open: (payload: Buffer) => Opened<{ upTo: number }>;
  apply: (upTo: number) => void;
  reject: (code: RejectCode, message: string) => void;
  /** Payloads larger than this are refused before anything reads them. */
  maxBytes: number;
}

/** upTo read without any check, only to order the candidates; -1 when unreadable. */
function peekUpTo(payload: Buffer): number {
  try {
    const env = JSON.parse(payload.toString('utf8')) as { body?: unknown };
    if (typeof env.body !== 'string') return -1;
    const upTo = (JSON.parse(env.body) as { upTo?: unknown }).upTo;
    return typeof upTo === 'number' && Number.isFinite(upTo) ? upTo : -1;
  } catch {
    return -1;
  }
}

export class AckCoalescer {
  private queue: Buffer[] = [];
  private scheduled = false;

  constructor(private readonly deps: AckCoalescerDeps) {}

  push(payload: Buffer): void {
    // Size first: peekUpTo parses, and nothing may parse an oversize payload.
    if (payload.length > this.deps.maxBytes) {
      this.deps.reject('OVERSIZE', `payload of ${payload.length} bytes exceeds ${this.deps.maxBytes}`);
      return;
    }
    this.queue.push(payload);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  /** Check the queued acks now (tests; also what the scheduled drain does). */
  drain(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    const ordered = batch.map((p) => ({ p, upTo: peekUpTo(p) })).sort((a, b) => b.upTo - a.upTo);
    for (const { p } of ordered) {
      const m = this.deps.open(p);
      if (m.ok) {
        this.deps.apply(m.body.upTo);
        // Lower acks are covered by this one; unreadable ones still get their rejection.
        for (const rest of ordered) if (rest.upTo < 0) this.reportBad(rest.p);
        return;
      }
      this.deps.reject(m.code, m.message);
    }
  }

  private reportBad(p: Buffer): void {
    const m = this.deps.open(p);
    if (!m.ok) this.deps.reject(m.code, m.message);
  }
}

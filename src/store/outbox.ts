/**
 * The event outbox: the journal tail after the cursor central has acked.
 * An event leaves the outbox only when a signed events/ack covers it; the
 * window of events sent but not yet acked is in-memory bookkeeping of the
 * publisher (everything unacked is resent after a restart anyway).
 */
import type Database from 'better-sqlite3';
import type { Journal } from './journal.js';
import type { JournalEvent } from './types.js';

export interface OutboxState {
  /** Every event with seq <= ackedSeq is stored at central. */
  ackedSeq: number;
  lastSeq: number;
  /** Events written and not yet acked. */
  pending: number;
  /** First unacked seq, null when nothing is pending. */
  oldestSeq: number | null;
}

export class Outbox {
  private readonly sGet: Database.Statement;
  private readonly sSet: Database.Statement;
  private acked: number;

  constructor(
    db: Database.Database,
    private readonly journal: Journal,
  ) {
    this.sGet = db.prepare('SELECT acked_seq FROM sync_outbox WHERE id = 1').pluck();
    this.sSet = db.prepare('UPDATE sync_outbox SET acked_seq = ?, acked_at = ? WHERE id = 1');
    this.acked = (this.sGet.get() as number | undefined) ?? 0;
  }

  ackedSeq(): number {
    return this.acked;
  }

  state(): OutboxState {
    const lastSeq = this.journal.lastSeq();
    // A restored or reset journal can end below the cursor: nothing is pending then.
    const pending = Math.max(0, lastSeq - this.acked);
    return { ackedSeq: this.acked, lastSeq, pending, oldestSeq: pending > 0 ? this.acked + 1 : null };
  }

  /**
   * Central stored everything up to `upTo`. Returns the new cursor, or
   * undefined when the ack is old (a replay or reordering: ignored).
   * Clamped to `sentUpTo`, the last seq the gate has published (default:
   * the last written): central cannot have stored what was never sent, and
   * an ack past it must not drop unpublished events from the outbox.
   */
  ack(upTo: number, nowMs: number, sentUpTo = this.journal.lastSeq()): number | undefined {
    const target = Math.min(Math.floor(upTo), sentUpTo, this.journal.lastSeq());
    if (target <= this.acked) return undefined;
    this.sSet.run(target, nowMs);
    this.acked = target;
    return target;
  }

  /** Up to `limit` unacked events from `fromSeq` on, in seq order. */
  read(fromSeq: number, limit: number): JournalEvent[] {
    const from = Math.max(fromSeq, this.acked + 1);
    return this.journal.range(from, Number.MAX_SAFE_INTEGER, limit);
  }
}

/**
 * Journal retention: events older than privacy.retention.eventsDays go,
 * but only those central has acked; the journal keeps a {seq, hash}
 * checkpoint so the chain still verifies. A gate offline for months keeps
 * every unacked event and says how many in its status (outbox.retentionHeld).
 */
import type { Logger } from '../log.js';
import type { Clock } from '../types.js';
import type { GateControl } from '../controller/gate-api.js';
import type { Journal } from '../store/journal.js';
import type { Outbox } from '../store/outbox.js';
import { formatTs } from '../store/time.js';

/** Events deleted per transaction, so a first purge of millions never stalls decisions. */
const STEP = 2_000;

export interface RetentionResult {
  purged: number;
  upToSeq: number;
  /** Unacked events older than the retention period, kept. */
  held: number;
}

export class JournalRetention {
  private heldCount = 0;
  private running = false;

  constructor(
    private readonly deps: {
      journal: Journal;
      outbox: Outbox;
      gate: GateControl;
      eventsDays: number;
      log: Logger;
      clock: Clock;
    },
  ) {}

  held(): number {
    return this.heldCount;
  }

  /** Highest seq whose ts is before cutoff (ts follows seq): a binary search of point reads. */
  private lastSeqBefore(cutoffMs: number): number {
    const { journal } = this.deps;
    let lo = (journal.checkpoint()?.seq ?? 0) + 1;
    let hi = journal.lastSeq();
    let found = lo - 1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const ev = journal.get(mid);
      const ts = ev ? Date.parse(ev.ts) : Number.NaN;
      if (!ev || Number.isNaN(ts)) break;
      if (ts < cutoffMs) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  async run(): Promise<RetentionResult> {
    const { journal, outbox, gate, eventsDays, log, clock } = this.deps;
    if (this.running) return { purged: 0, upToSeq: journal.checkpoint()?.seq ?? 0, held: this.heldCount };
    this.running = true;
    try {
      const cutoff = clock() - eventsDays * 86_400_000;
      const old = this.lastSeqBefore(cutoff);
      const acked = outbox.ackedSeq();
      const upTo = Math.min(old, acked);
      this.heldCount = Math.max(0, old - acked);
      let purged = 0;
      let at = journal.checkpoint()?.seq ?? 0;
      while (at < upTo) {
        const next = Math.min(upTo, at + STEP);
        purged += journal.purgeUpTo(next);
        at = next;
        await new Promise<void>((r) => setImmediate(r));
      }
      if (purged > 0) {
        gate.record({ type: 'purge', scope: 'retention', upToSeq: upTo, count: purged, before: formatTs(cutoff) });
        log.info({ upToSeq: upTo, count: purged }, 'journal retention purge');
      }
      if (this.heldCount > 0) {
        log.warn({ held: this.heldCount, ackedSeq: acked }, 'unacked events older than retention are kept until central acks them');
      }
      return { purged, upToSeq: upTo, held: this.heldCount };
    } finally {
      this.running = false;
    }
  }
}

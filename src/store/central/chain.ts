/**
 * One gate's chain state in the collector's store, and the one pure walk
 * that advances it: both stores (SQLite, store/central/central.ts, and
 * PostgreSQL, store/central/central-pg.ts) keep the same row and call
 * `advanceChain` over the events they hold past the contiguous prefix.
 *
 * Invariant kept by the walk (and by checkpoint adoption): while the chain
 * is not broken, verified_seq == contiguous_seq. Once broken, the prefix
 * still moves (the ack is "stored", not "verified") and the verified seq
 * stays at the last good event.
 */
import { hashBody } from '../journal.js';

export interface GateChainState {
  gate: string;
  site: string;
  /** Every seq 1..contiguousSeq is stored: what central acks. */
  contiguousSeq: number;
  /** The chain is verified up to here. */
  verifiedSeq: number;
  brokenSeq?: number;
  brokenReason?: string;
  ackedSeq: number;
  /** Highest seq stored (may lie beyond a gap). */
  maxSeq: number;
  /** When (epoch ms) this store last took in a new event of the gate. */
  lastEventAt?: number;
}

export interface IngestResult {
  inserted: number;
  duplicates: number;
  /** Same (gate, seq) already stored with another hash: kept the first, flagged. */
  conflicts: number;
  state: GateChainState;
}

export interface SeqRange {
  from: number;
  to: number;
}

/**
 * The missing seq ranges above a gate's contiguous prefix, found from the
 * stored seqs fed page by page in ascending order (each store reads its own
 * pages): `feed` answers the seq to read the next page after, or undefined
 * when there is nothing more to read or `limit` ranges are found.
 */
export class GapFinder {
  readonly gaps: SeqRange[] = [];
  private expect: number;

  constructor(
    contiguousSeq: number,
    private readonly limit: number,
  ) {
    this.expect = contiguousSeq + 1;
  }

  feed(page: readonly { seq: number }[]): number | undefined {
    if (page.length === 0 || this.gaps.length >= this.limit) return undefined;
    for (const { seq } of page) {
      if (seq > this.expect) this.gaps.push({ from: this.expect, to: seq - 1 });
      this.expect = seq + 1;
      if (this.gaps.length >= this.limit) return undefined;
    }
    return page[page.length - 1]!.seq;
  }
}

/** The row of `central_gates`, as both stores read and write it. */
export interface GateRow {
  gate: string;
  site: string;
  contiguous_seq: number;
  verified_seq: number;
  verified_hash: string;
  broken_seq: number | null;
  broken_reason: string | null;
  acked_seq: number;
  /** Highest seq stored (PostgreSQL keeps it on the row; SQLite computes it). */
  max_seq: number;
  last_event_at: number | null;
}

/** One stored (or being stored) event as the walk needs it. */
export interface ChainLink {
  /** The RFC 8785 text the hash covers (the event minus `hash`). */
  body: string;
  hash: string;
  /**
   * The event's prevHash when the caller already holds the parsed event the
   * body was canonicalised from (a batch being ingested); absent for a row
   * read back from the database, whose body is then parsed.
   */
  prevHash?: unknown;
}

export interface ChainBreak {
  seq: number;
  problem: string;
}

export interface ChainWalk {
  /** The state after the walk (a new object; the input is not changed). */
  state: GateRow;
  /** The first break met in this walk, if the chain was intact before it. */
  broken?: ChainBreak;
  /** How many seqs the prefix moved. */
  moved: number;
}

/**
 * Move the contiguous prefix over `links` (seq → event) from
 * `contiguous_seq + 1` for as long as they hold the next seq, checking each
 * event against the verified hash while the chain is intact. Stops at the
 * first seq `links` lacks: the caller with more rows (a further page) calls
 * again with the returned state.
 */
export function advanceChain(row: GateRow, links: { get(seq: number): ChainLink | undefined }): ChainWalk {
  const st: GateRow = { ...row };
  let broken: ChainBreak | undefined;
  let moved = 0;
  for (;;) {
    const seq = st.contiguous_seq + 1;
    const next = links.get(seq);
    if (!next) break;
    st.contiguous_seq = seq;
    moved++;
    if (st.broken_seq !== null) continue;
    const problem = chainProblem(seq, next, st.verified_hash);
    if (problem) {
      st.broken_seq = seq;
      st.broken_reason = problem;
      broken = { seq, problem };
      continue;
    }
    st.verified_seq = seq;
    st.verified_hash = next.hash;
  }
  return broken ? { state: st, broken, moved } : { state: st, moved };
}

/** Why an event does not follow `prevHash` in the chain, or undefined when it does. */
export function chainProblem(seq: number, link: ChainLink, prevHash: string): string | undefined {
  const claimed = 'prevHash' in link ? link.prevHash : (JSON.parse(link.body) as { prevHash?: unknown }).prevHash;
  if (claimed !== prevHash) return `seq ${seq}: prevHash does not match the hash of seq ${seq - 1}`;
  if (hashBody(prevHash, link.body) !== link.hash) return `seq ${seq}: hash does not match its content`;
  return undefined;
}

/** The row as the collector and the readers see it. */
export function toState(r: GateRow): GateChainState {
  return {
    gate: r.gate,
    site: r.site,
    contiguousSeq: r.contiguous_seq,
    verifiedSeq: r.verified_seq,
    ...(r.broken_seq !== null ? { brokenSeq: r.broken_seq, brokenReason: r.broken_reason ?? '' } : {}),
    ackedSeq: r.acked_seq,
    maxSeq: r.max_seq,
    ...(r.last_event_at !== null && r.last_event_at !== undefined ? { lastEventAt: r.last_event_at } : {}),
  };
}

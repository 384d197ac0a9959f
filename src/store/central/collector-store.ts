/**
 * The collector's store as the collector, `gatectl logs`, `journal verify`
 * and `gatectl fleet` see it: one async interface, two implementations.
 * SQLite (store/central/central.ts, one machine, the embedded default) and
 * PostgreSQL (store/central/central-pg.ts, collectors on several hosts sharing one
 * database). `openCollectorStore` picks by the `--db` argument.
 */
import { CentralStore, type GateChainState, type IngestResult, type SeqRange } from './central.js';
import { verifyRows, type VerifyResult } from '../journal.js';
import type { JournalEvent } from '../types.js';

export type { GateChainState, IngestResult, SeqRange } from './central.js';

export interface IngestBatch {
  site: string;
  gate: string;
  events: readonly JournalEvent[];
}

export interface StoredStatus {
  gate: string;
  site: string;
  online: boolean;
  status: unknown;
  receivedAt: number;
}

export interface StoredAnomaly {
  seq: number | null;
  kind: string;
  detail: string;
  at: number;
}

export interface CollectorStore {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Store a batch of one gate's events idempotently by (gate, seq) and advance
   * the gate's contiguous prefix and verified chain, in one transaction that
   * holds the gate's chain state: two collectors never advance one gate at once.
   */
  ingest(site: string, gate: string, events: readonly JournalEvent[], nowMs: number): Promise<IngestResult>;
  /** Batches of several gates at once (one transaction on PostgreSQL); results in the order given. */
  ingestMany(batches: ReadonlyArray<IngestBatch>, nowMs: number): Promise<IngestResult[]>;
  /** The gate purged up to `seq` (hash `hash`): resume its chain there. True when anything moved. */
  adoptCheckpoint(site: string, gate: string, seq: number, hash: string, nowMs: number): Promise<boolean>;
  state(gate: string): Promise<GateChainState | undefined>;
  gates(): Promise<GateChainState[]>;
  /** Gates with events stored beyond a gap (maxSeq > contiguousSeq). */
  gapped(): Promise<GateChainState[]>;
  gaps(gate: string, limit?: number): Promise<SeqRange[]>;
  /** True for one collector of the group at most once per graceMs while the gate's prefix stays at contiguousSeq. */
  claimReplay(gate: string, contiguousSeq: number, nowMs: number, graceMs: number): Promise<boolean>;
  recordAck(gate: string, upTo: number): Promise<void>;
  events(gate: string, fromSeq: number, toSeq?: number, limit?: number): Promise<JournalEvent[]>;
  /** Full re-verification of every gate's chain from its first stored event. */
  verifyAll(): Promise<Array<{ gate: string; result: VerifyResult }>>;
  saveRegistration(site: string, gate: string, id: string, body: unknown, nowMs: number): Promise<boolean>;
  saveStatus(site: string, gate: string, status: { online?: unknown }, nowMs: number): Promise<void>;
  /** Several gates' latest statuses at once. */
  saveStatuses(list: ReadonlyArray<{ site: string; gate: string; status: { online?: unknown }; at: number }>): Promise<void>;
  statuses(): Promise<StoredStatus[]>;
  anomalies(gate: string): Promise<StoredAnomaly[]>;
  noteAnomaly(gate: string, seq: number | null, kind: string, detail: string, nowMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The SQLite store behind the async interface (its calls are synchronous underneath). */
export function sqliteCollectorStore(s: CentralStore): CollectorStore {
  return {
    kind: 'sqlite',
    ingest: async (site, gate, events, nowMs) => s.ingest(site, gate, events, nowMs),
    ingestMany: async (batches, nowMs) => batches.map((b) => s.ingest(b.site, b.gate, b.events, nowMs)),
    adoptCheckpoint: async (site, gate, seq, hash, nowMs) => s.adoptCheckpoint(site, gate, seq, hash, nowMs),
    state: async (gate) => s.state(gate),
    gates: async () => s.gates(),
    gapped: async () => s.gates().filter((g) => g.maxSeq > g.contiguousSeq),
    gaps: async (gate, limit) => s.gaps(gate, limit),
    claimReplay: async (gate, contiguousSeq, nowMs, graceMs) => s.claimReplay(gate, contiguousSeq, nowMs, graceMs),
    recordAck: async (gate, upTo) => s.recordAck(gate, upTo),
    events: async (gate, fromSeq, toSeq, limit) => s.events(gate, fromSeq, toSeq, limit),
    verifyAll: async () => s.verifyAll(),
    saveRegistration: async (site, gate, id, body, nowMs) => s.saveRegistration(site, gate, id, body, nowMs),
    saveStatus: async (site, gate, status, nowMs) => s.saveStatus(site, gate, status, nowMs),
    saveStatuses: async (list) => s.saveStatuses(list),
    statuses: async () => s.statuses(),
    anomalies: async (gate) => s.anomalies(gate),
    noteAnomaly: async (gate, seq, kind, detail, nowMs) => s.noteAnomaly(gate, seq, kind, detail, nowMs),
    close: async () => s.close(),
  };
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/**
 * Open the collector's store named by `--db`: a postgres:// URL or a SQLite
 * file. `mustExist` (readers: logs, journal verify, fleet) never creates or
 * migrates anything and refuses a database that is not a collector store.
 */
export async function openCollectorStore(db: string, opts: { mustExist?: boolean; poolSize?: number } = {}): Promise<CollectorStore> {
  if (isPostgresUrl(db)) {
    const { PgCentralStore } = await import('./central-pg.js');
    return PgCentralStore.open(db, { mustExist: opts.mustExist === true, ...(opts.poolSize ? { poolSize: opts.poolSize } : {}) });
  }
  return sqliteCollectorStore(new CentralStore(db, { mustExist: opts.mustExist === true }));
}

/** Verify pages of one gate's rows with `verifyRows`, carrying the chain from page to page. */
export async function verifyPaged(
  page: (afterSeq: number) => Promise<Array<{ seq: number; hash: string; body: string }>>,
): Promise<VerifyResult> {
  let after = 0;
  let prevHash: string | undefined;
  let checked = 0;
  let fromSeq: number | undefined;
  for (;;) {
    const rows = await page(after);
    if (rows.length === 0) break;
    const r = verifyRows(rows, prevHash === undefined ? undefined : { seq: after, hash: prevHash });
    fromSeq ??= r.fromSeq;
    if (!r.ok) {
      const reason = prevHash !== undefined && r.checked === 0 && r.reason === 'prevHash does not match the purge checkpoint'
        ? `prevHash mismatch: does not match the hash of seq ${after}`
        : r.reason;
      return { ...r, checked: checked + r.checked, ...(reason ? { reason } : {}), ...(fromSeq !== undefined ? { fromSeq } : {}) };
    }
    checked += r.checked;
    after = rows[rows.length - 1]!.seq;
    prevHash = rows[rows.length - 1]!.hash;
  }
  return { ok: true, checked, ...(checked ? { fromSeq: fromSeq!, toSeq: after } : {}) };
}

/**
 * The central collector's store: every gate's events keyed by (gate, seq),
 * stored idempotently, with each gate's hash chain verified as events land.
 * All of the collector's SQL lives here. Several collectors of one shared
 * subscription group may open the same file (WAL + busy_timeout): state is
 * always recomputed from rows inside a transaction, never cached.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import SqliteDatabase from '../sqlite-driver.js';
import { GENESIS_HASH, eventBody, verifyRows, type ChainRow, type VerifyResult } from '../journal.js';
import { CENTRAL_SCHEMA } from '../schema/central.js';
import type { JournalEvent } from '../types.js';
import { advanceChain, GapFinder, toState, type GateChainState, type GateRow, type IngestResult, type SeqRange } from './chain.js';

export type { GateChainState, IngestResult, SeqRange } from './chain.js';

/** The SQLite row: the highest stored seq is not kept on it but read from the events. */
type SqliteGateRow = Omit<GateRow, 'max_seq'>;

const WALK = 5_000;

export class CentralStore {
  private readonly db: Database.Database;
  private readonly stmt;

  /**
   * `synchronous` FULL by default: an ack tells the gate it may forget the
   * events, so they must survive a power loss here (sqlite.org/pragma.html#pragma_synchronous).
   */
  constructor(path: string, opts: { synchronous?: 'normal' | 'full'; mustExist?: boolean } = {}) {
    if (path !== ':memory:' && !opts.mustExist) mkdirSync(dirname(path), { recursive: true });
    this.db = new SqliteDatabase(path, { fileMustExist: opts.mustExist === true });
    // Never turn another database (a gate's) into a collector store by adding tables to it.
    const tables = this.db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number;
    if ((tables > 0 || opts.mustExist) && !isCentralStore(this.db)) {
      this.db.close();
      throw Object.assign(new Error(`${path} is not a collector store (gatectl central --db)`), { code: 'NOT_A_CENTRAL_DB' });
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    this.db.pragma('busy_timeout = 10000');
    this.migrate();
    const db = this.db;
    this.stmt = {
      gate: db.prepare<[string], SqliteGateRow>('SELECT * FROM central_gates WHERE gate = ?'),
      addGate: db.prepare('INSERT OR IGNORE INTO central_gates (gate, site, verified_hash) VALUES (?, ?, ?)'),
      insert: db.prepare(
        'INSERT OR IGNORE INTO central_events (gate, seq, id, ts, type, hash, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      hashAt: db.prepare<[string, number], { hash: string }>('SELECT hash FROM central_events WHERE gate = ? AND seq = ?'),
      seqsAfter: db.prepare<[string, number, number], { seq: number }>(
        'SELECT seq FROM central_events WHERE gate = ? AND seq > ? ORDER BY seq LIMIT +?',
      ),
      bodiesAfter: db.prepare<[string, number, number, number], { seq: number; body: string; hash: string }>(
        'SELECT seq, body, hash FROM central_events WHERE gate = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT +?',
      ),
      maxSeq: db.prepare<[string], { m: number | null }>('SELECT max(seq) AS m FROM central_events WHERE gate = ?'),
      setContiguous: db.prepare('UPDATE central_gates SET contiguous_seq = ?, last_event_at = ? WHERE gate = ?'),
      setVerified: db.prepare('UPDATE central_gates SET verified_seq = ?, verified_hash = ? WHERE gate = ?'),
      setBroken: db.prepare('UPDATE central_gates SET broken_seq = ?, broken_reason = ? WHERE gate = ? AND broken_seq IS NULL'),
      claimReplay: db.prepare(
        'UPDATE central_gates SET replay_asked_at = ? WHERE gate = ? AND contiguous_seq = ? AND (replay_asked_at IS NULL OR replay_asked_at <= ?)',
      ),
      setAcked: db.prepare('UPDATE central_gates SET acked_seq = max(acked_seq, ?) WHERE gate = ?'),
      anomaly: db.prepare('INSERT INTO central_anomalies (gate, seq, kind, detail, at) VALUES (?, ?, ?, ?, ?)'),
      gates: db.prepare<[], SqliteGateRow>('SELECT * FROM central_gates ORDER BY gate'),
      range: db.prepare<[string, number, number, number], { seq: number; body: string; hash: string }>(
        'SELECT seq, body, hash FROM central_events WHERE gate = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT +?',
      ),
      registration: db.prepare('INSERT OR IGNORE INTO central_registrations (id, gate, site, body, received_at) VALUES (?, ?, ?, ?, ?)'),
      status: db.prepare(
        `INSERT INTO central_statuses (gate, site, online, body, received_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (gate) DO UPDATE SET site = excluded.site, online = excluded.online, body = excluded.body, received_at = excluded.received_at`,
      ),
      statuses: db.prepare<[], { gate: string; site: string; online: number; body: string; received_at: number }>(
        'SELECT * FROM central_statuses ORDER BY gate',
      ),
      anomalies: db.prepare<[string], { seq: number | null; kind: string; detail: string; at: number }>(
        'SELECT seq, kind, detail, at FROM central_anomalies WHERE gate = ? ORDER BY n',
      ),
    };
  }

  private migrate(): void {
    const at = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = at; v < CENTRAL_SCHEMA.length; v++) {
      this.db.transaction(() => {
        this.db.exec(CENTRAL_SCHEMA[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  /**
   * Store a batch of one gate's events in one transaction; duplicates are
   * ignored (at-least-once delivery), then the contiguous prefix and the
   * verified chain advance as far as the stored rows allow.
   */
  ingest(site: string, gate: string, events: readonly JournalEvent[], nowMs: number): IngestResult {
    return this.db.transaction(() => {
      this.stmt.addGate.run(gate, site, GENESIS_HASH);
      let inserted = 0;
      let duplicates = 0;
      let conflicts = 0;
      for (const ev of events) {
        const r = this.stmt.insert.run(gate, ev.seq, ev.id, ev.ts, ev.type, ev.hash, eventBody(ev), nowMs);
        if (r.changes === 1) {
          inserted++;
          continue;
        }
        const stored = this.stmt.hashAt.get(gate, ev.seq);
        if (stored && stored.hash !== ev.hash) {
          conflicts++;
          this.stmt.anomaly.run(gate, ev.seq, 'conflict', `received hash ${ev.hash} differs from stored ${stored.hash}`, nowMs);
        } else duplicates++;
      }
      if (inserted > 0) this.advance(gate, nowMs);
      return { inserted, duplicates, conflicts, state: this.state(gate)! };
    }).immediate();
  }

  /**
   * The gate says its journal starts after `seq` (retention purged up to it;
   * `hash` is the hash of event `seq`). Events below that this store never
   * got are gone for good: waiting for them would stall this gate's acks
   * forever (a new or restored collector database). So the prefix moves to
   * `seq`, the loss is recorded as an anomaly, and the chain is verified
   * on from `hash`: event seq+1 must name it as prevHash. Returns whether
   * anything moved.
   */
  adoptCheckpoint(site: string, gate: string, seq: number, hash: string, nowMs: number): boolean {
    return this.db.transaction(() => {
      this.stmt.addGate.run(gate, site, GENESIS_HASH);
      const row = this.stmt.gate.get(gate)!;
      if (row.contiguous_seq >= seq) return false;
      const from = row.contiguous_seq + 1;
      this.stmt.anomaly.run(gate, seq, 'purged_before_collected', `events ${from}..${seq} were purged by the gate before this store had them; chain resumed from the gate's checkpoint`, nowMs);
      const stored = this.stmt.hashAt.get(gate, seq);
      if (stored && stored.hash !== hash) {
        this.stmt.anomaly.run(gate, seq, 'conflict', `checkpoint hash ${hash} differs from stored ${stored.hash}`, nowMs);
      }
      this.stmt.setContiguous.run(seq, nowMs, gate);
      if (row.broken_seq === null && row.verified_seq < seq) this.stmt.setVerified.run(seq, hash, gate);
      this.advance(gate, nowMs);
      return true;
    }).immediate();
  }

  /** Walk the gate's chain over its stored rows past the prefix (store/central/chain.ts), page by page, and write the state back. */
  private advance(gate: string, nowMs: number): void {
    const row: GateRow = { ...this.stmt.gate.get(gate)!, max_seq: 0 };
    let st = row;
    for (;;) {
      const page = this.stmt.bodiesAfter.all(gate, st.contiguous_seq, Number.MAX_SAFE_INTEGER, WALK);
      const w = advanceChain(st, new Map(page.map((p) => [p.seq, { hash: p.hash, body: p.body }])));
      st = w.state;
      if (w.broken) {
        this.stmt.setBroken.run(w.broken.seq, w.broken.problem, gate);
        this.stmt.anomaly.run(gate, w.broken.seq, 'chain_broken', w.broken.problem, nowMs);
      }
      if (page.length < WALK || w.moved < page.length) break;
    }
    if (st.contiguous_seq !== row.contiguous_seq) this.stmt.setContiguous.run(st.contiguous_seq, nowMs, gate);
    if (st.verified_seq !== row.verified_seq) this.stmt.setVerified.run(st.verified_seq, st.verified_hash, gate);
  }

  state(gate: string): GateChainState | undefined {
    const row = this.stmt.gate.get(gate);
    return row ? this.toState(row) : undefined;
  }

  gates(): GateChainState[] {
    return this.stmt.gates.all().map((r) => this.toState(r));
  }

  private toState(r: SqliteGateRow): GateChainState {
    return toState({ ...r, max_seq: this.stmt.maxSeq.get(r.gate)?.m ?? 0 });
  }

  /** Missing seq ranges below the highest stored seq, oldest first. */
  gaps(gate: string, limit = 100): SeqRange[] {
    const st = this.state(gate);
    if (!st) return [];
    const finder = new GapFinder(st.contiguousSeq, limit);
    for (let after: number | undefined = st.contiguousSeq; after !== undefined; ) after = finder.feed(this.stmt.seqsAfter.all(gate, after, WALK));
    return finder.gaps;
  }

  /**
   * One collector of the group claims the right to ask this gate for a
   * replay of the gap after `contiguousSeq`: true at most once per `graceMs`
   * across every collector on this file (the claim and its check are one
   * statement, under SQLite's write lock).
   */
  claimReplay(gate: string, contiguousSeq: number, nowMs: number, graceMs: number): boolean {
    return this.stmt.claimReplay.run(nowMs, gate, contiguousSeq, nowMs - graceMs).changes === 1;
  }

  recordAck(gate: string, upTo: number): void {
    this.stmt.setAcked.run(upTo, gate);
  }

  /** Events fromSeq..toSeq in seq order (at most limit). */
  events(gate: string, fromSeq: number, toSeq = Number.MAX_SAFE_INTEGER, limit = 1_000): JournalEvent[] {
    return this.stmt.range.all(gate, fromSeq, toSeq, limit).map((r) => ({ ...(JSON.parse(r.body) as object), hash: r.hash }) as JournalEvent);
  }

  /**
   * One gate's stored events as `verifyRows` (store/journal.ts) walks them:
   * `body` is the canonical JSON the hash covers, so `gatectl journal verify`
   * checks a collector's store with the same code as a gate's journal.
   */
  *chainRows(gate: string): IterableIterator<ChainRow> {
    let after = 0;
    for (;;) {
      const page = this.stmt.range.all(gate, after + 1, Number.MAX_SAFE_INTEGER, WALK);
      for (const r of page) yield { seq: r.seq, hash: r.hash, body: r.body };
      if (page.length < WALK) return;
      after = page[page.length - 1]!.seq;
    }
  }

  /** Full re-verification of every gate's chain (not the incremental state). */
  verifyAll(): Array<{ gate: string; result: VerifyResult }> {
    return this.gates().map((g) => ({ gate: g.gate, result: verifyRows(this.chainRows(g.gate)) }));
  }

  /** Every stored event of one gate in seq order, page by page (for `journal verify`). */
  *iterateEvents(gate: string, fromSeq = 1): IterableIterator<JournalEvent> {
    let next = fromSeq;
    for (;;) {
      const page = this.events(gate, next, Number.MAX_SAFE_INTEGER, WALK);
      yield* page;
      if (page.length < WALK) return;
      next = page[page.length - 1]!.seq + 1;
    }
  }

  /** True when this registration id is new (the caller acks either way). */
  saveRegistration(site: string, gate: string, id: string, body: unknown, nowMs: number): boolean {
    return this.stmt.registration.run(id, gate, site, JSON.stringify(body), nowMs).changes === 1;
  }

  saveStatus(site: string, gate: string, status: { online?: unknown }, nowMs: number): void {
    this.stmt.status.run(gate, site, status.online === false ? 0 : 1, JSON.stringify(status), nowMs);
  }

  saveStatuses(list: ReadonlyArray<{ site: string; gate: string; status: { online?: unknown }; at: number }>): void {
    this.db.transaction(() => {
      for (const x of list) this.saveStatus(x.site, x.gate, x.status, x.at);
    }).immediate();
  }

  statuses(): Array<{ gate: string; site: string; online: boolean; status: unknown; receivedAt: number }> {
    return this.stmt.statuses.all().map((r) => ({
      gate: r.gate, site: r.site, online: r.online === 1, status: JSON.parse(r.body) as unknown, receivedAt: r.received_at,
    }));
  }

  anomalies(gate: string): Array<{ seq: number | null; kind: string; detail: string; at: number }> {
    return this.stmt.anomalies.all(gate);
  }

  noteAnomaly(gate: string, seq: number | null, kind: string, detail: string, nowMs: number): void {
    this.stmt.anomaly.run(gate, seq, kind, detail, nowMs);
  }

  close(): void {
    this.db.close();
  }
}

/** True when the file at this path is a collector store (for `gatectl journal verify`). */
export function isCentralStore(db: Database.Database): boolean {
  return db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'central_events'").pluck().get() === 1;
}

/**
 * Verify every gate's chain in an already-open collector database (may be
 * read-only): the entry point for `gatectl journal verify` on a collector's
 * store. Streams rows; gates in id order.
 */
export function verifyCentralDb(db: Database.Database): Array<{ gate: string; result: VerifyResult }> {
  if (!isCentralStore(db)) throw Object.assign(new Error('not a collector store: no central_events table'), { code: 'NOT_A_CENTRAL_DB' });
  const gates = db.prepare('SELECT DISTINCT gate FROM central_events ORDER BY gate').pluck().all() as string[];
  const rows = db.prepare('SELECT seq, hash, body FROM central_events WHERE gate = ? ORDER BY seq');
  return gates.map((gate) => ({ gate, result: verifyRows(rows.iterate(gate) as IterableIterator<ChainRow>) }));
}

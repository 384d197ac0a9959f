/**
 * The collector's store on PostgreSQL (node-postgres): collectors on several
 * hosts of one `$share` group share it. Every ingest is one transaction that
 * first takes the gate's row lock (an upsert on central_gates), so batches of
 * one gate received by different collectors are stored and verified one after
 * the other, each seeing what the previous one committed: the chain state
 * never skips, repeats or races, and the contiguous seq each returns (what
 * the collector acks) is what the database holds.
 */
import pg from 'pg';
import type { VerifyResult } from '../journal.js';
import { CENTRAL_PG_SCHEMA } from '../schema/central-pg.js';
import { verifyPaged, type CollectorStore, type StoredAnomaly, type StoredStatus } from './collector-store.js';
import { GapFinder, toState, type GateChainState, type GateRow, type IngestResult, type SeqRange } from './chain.js';
import { WALK, ingestManyTx, lockGate, recordAnomaly, walkStored } from './central-pg-ingest.js';
import type { JournalEvent } from '../types.js';

/** Any lock number: serialises concurrent migrations of collectors starting together. */
const MIGRATION_LOCK = 0x6761_7465;

// BIGINT (oid 20) as a JS number: seqs and epoch milliseconds stay far below 2^53.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export class PgCentralStore implements CollectorStore {
  readonly kind = 'postgres' as const;
  private readonly pendingAcks = new Map<string, number>();
  private ackTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly pool: pg.Pool) {}

  /**
   * Connect (and unless `mustExist`, migrate). `mustExist`: a reader that
   * must not create tables; refuses a database without the collector's schema.
   */
  static async open(url: string, opts: { mustExist?: boolean; poolSize?: number } = {}): Promise<PgCentralStore> {
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 8, types, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
    // An idle client whose server went away (a PostgreSQL restart) emits
    // 'error' on the pool; unhandled it would kill the process. The next
    // query gets a fresh connection.
    pool.on('error', () => {});
    const store = new PgCentralStore(pool);
    try {
      if (opts.mustExist) {
        const r = await pool.query<{ t: string | null }>("SELECT to_regclass('central_events')::text AS t");
        if (!r.rows[0]?.t) throw Object.assign(new Error('not a collector store: no central_events table'), { code: 'NOT_A_CENTRAL_DB' });
      } else await store.migrate();
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    await this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)');
      const applied = new Set((await c.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
      const tables = await c.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'central\\_%' AND tablename <> 'schema_migrations'",
      );
      // Never turn another application's database into a collector store.
      if (applied.size === 0 && tables.rows[0]!.n > 0) {
        throw Object.assign(new Error('database holds other tables: not a collector store (gatectl central --db)'), { code: 'NOT_A_CENTRAL_DB' });
      }
      for (const m of CENTRAL_PG_SCHEMA) {
        if (applied.has(m.id)) continue;
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, now())', [m.id]);
      }
    });
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken = false;
    // The server may end the connection between two statements of ours (a
    // PostgreSQL restart: 57P01); a checked-out client then emits 'error',
    // which unheard would kill the process. The next statement fails and the
    // transaction is retried by the caller on a fresh connection.
    const onError = () => (broken = true);
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => (broken = true));
      throw e;
    } finally {
      c.off('error', onError);
      c.release(broken);
    }
  }

  async ingest(site: string, gate: string, events: readonly JournalEvent[], nowMs: number): Promise<IngestResult> {
    return (await this.ingestMany([{ site, gate, events }], nowMs))[0]!;
  }

  /**
   * Several gates' batches in ONE transaction (what a busy collector does
   * with the messages waiting for it): the gates' rows are locked in gate
   * order (two collectors locking overlapping sets never deadlock), the
   * events of all of them go in with one statement, and the chain states
   * are written back with one more. Batches of one gate are merged.
   * Results come back in the order of `batches`.
   */
  async ingestMany(batches: ReadonlyArray<{ site: string; gate: string; events: readonly JournalEvent[] }>, nowMs: number): Promise<IngestResult[]> {
    const out = await this.tx((c) => ingestManyTx(c, batches, nowMs));
    return batches.map((b) => out.get(b.gate)!);
  }

  async adoptCheckpoint(site: string, gate: string, seq: number, hash: string, nowMs: number): Promise<boolean> {
    return this.tx(async (c) => {
      const row = await lockGate(c, site, gate);
      if (row.contiguous_seq >= seq) return false;
      const from = row.contiguous_seq + 1;
      await recordAnomaly(c, gate, seq, 'purged_before_collected', `events ${from}..${seq} were purged by the gate before this store had them; chain resumed from the gate's checkpoint`, nowMs);
      const stored = await c.query<{ hash: string }>('SELECT hash FROM central_events WHERE gate = $1 AND seq = $2', [gate, seq]);
      if (stored.rows[0] && stored.rows[0].hash !== hash) {
        await recordAnomaly(c, gate, seq, 'conflict', `checkpoint hash ${hash} differs from stored ${stored.rows[0].hash}`, nowMs);
      }
      const moved: GateRow = { ...row, contiguous_seq: seq };
      if (row.broken_seq === null && row.verified_seq < seq) (moved.verified_seq = seq), (moved.verified_hash = hash);
      const st = await walkStored(c, moved, new Map(), true, nowMs);
      await c.query(
        `UPDATE central_gates SET contiguous_seq = $2, verified_seq = $3, verified_hash = $4, broken_seq = $5, broken_reason = $6, last_event_at = $7 WHERE gate = $1`,
        [gate, st.contiguous_seq, st.verified_seq, st.verified_hash, st.broken_seq, st.broken_reason, nowMs],
      );
      return true;
    });
  }

  async state(gate: string): Promise<GateChainState | undefined> {
    const r = await this.pool.query<GateRow>('SELECT * FROM central_gates WHERE gate = $1', [gate]);
    return r.rows[0] ? toState(r.rows[0]) : undefined;
  }

  async gates(): Promise<GateChainState[]> {
    return (await this.pool.query<GateRow>('SELECT * FROM central_gates ORDER BY gate')).rows.map(toState);
  }

  async gapped(): Promise<GateChainState[]> {
    return (await this.pool.query<GateRow>('SELECT * FROM central_gates WHERE max_seq > contiguous_seq ORDER BY gate')).rows.map(toState);
  }

  async gaps(gate: string, limit = 100): Promise<SeqRange[]> {
    const st = await this.state(gate);
    if (!st) return [];
    const finder = new GapFinder(st.contiguousSeq, limit);
    for (let after: number | undefined = st.contiguousSeq; after !== undefined; ) {
      after = finder.feed((await this.pool.query<{ seq: number }>(`SELECT seq FROM central_events WHERE gate = $1 AND seq > $2 ORDER BY seq LIMIT ${WALK}`, [gate, after])).rows);
    }
    return finder.gaps;
  }

  async claimReplay(gate: string, contiguousSeq: number, nowMs: number, graceMs: number): Promise<boolean> {
    const r = await this.pool.query(
      'UPDATE central_gates SET replay_asked_at = $2 WHERE gate = $1 AND contiguous_seq = $3 AND (replay_asked_at IS NULL OR replay_asked_at <= $4)',
      [gate, nowMs, contiguousSeq, nowMs - graceMs],
    );
    return r.rowCount === 1;
  }

  /**
   * The acked seq is bookkeeping (what the gate was told), not evidence: acks
   * are gathered and written for all gates in one statement every 250 ms, so
   * a busy feed does not double its write transactions. Flushed on close.
   */
  async recordAck(gate: string, upTo: number): Promise<void> {
    this.pendingAcks.set(gate, Math.max(this.pendingAcks.get(gate) ?? 0, upTo));
    if (!this.ackTimer && !this.closed) {
      this.ackTimer = setTimeout(() => void this.flushAcks().catch(() => {}), 250);
      this.ackTimer.unref();
    }
  }

  private async flushAcks(): Promise<void> {
    this.ackTimer = undefined;
    if (this.pendingAcks.size === 0) return;
    // Sorted: two collectors flushing at once lock the rows in one order (no deadlock).
    const entries = [...this.pendingAcks.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.pendingAcks.clear();
    // Rows an ingest holds are skipped (SKIP LOCKED) and kept for the next
    // flush: bookkeeping never waits behind the feed. The others are locked
    // in gate order (LockRows above the Sort): a join would lock in its own
    // order and could deadlock with another collector's flush.
    const done = await this.pool.query<{ gate: string }>(
      `WITH l AS (SELECT gate FROM central_gates WHERE gate = ANY($1::text[]) ORDER BY gate FOR UPDATE SKIP LOCKED)
       UPDATE central_gates g SET acked_seq = GREATEST(g.acked_seq, v.a)
       FROM l JOIN unnest($1::text[], $2::bigint[]) AS v(gate, a) ON v.gate = l.gate WHERE g.gate = l.gate
       RETURNING g.gate`,
      [entries.map((e) => e[0]), entries.map((e) => e[1])],
    );
    const written = new Set(done.rows.map((r) => r.gate));
    for (const [gate, upTo] of entries) if (!written.has(gate)) this.pendingAcks.set(gate, Math.max(this.pendingAcks.get(gate) ?? 0, upTo));
    if (this.pendingAcks.size > 0 && !this.closed && !this.ackTimer) {
      this.ackTimer = setTimeout(() => void this.flushAcks().catch(() => {}), 250);
      this.ackTimer.unref();
    }
  }

  async events(gate: string, fromSeq: number, toSeq = Number.MAX_SAFE_INTEGER, limit = 1_000): Promise<JournalEvent[]> {
    const r = await this.pool.query<{ body: string; hash: string }>(
      'SELECT body, hash FROM central_events WHERE gate = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT $4',
      [gate, fromSeq, Math.min(toSeq, Number.MAX_SAFE_INTEGER), limit],
    );
    return r.rows.map((x) => ({ ...(JSON.parse(x.body) as object), hash: x.hash }) as JournalEvent);
  }

  async verifyAll(): Promise<Array<{ gate: string; result: VerifyResult }>> {
    const gates = (await this.pool.query<{ gate: string }>('SELECT DISTINCT gate FROM central_events ORDER BY gate')).rows.map((r) => r.gate);
    const out: Array<{ gate: string; result: VerifyResult }> = [];
    for (const gate of gates) {
      const result = await verifyPaged(async (after) =>
        (await this.pool.query<{ seq: number; hash: string; body: string }>(`SELECT seq, hash, body FROM central_events WHERE gate = $1 AND seq > $2 ORDER BY seq LIMIT ${WALK}`, [gate, after])).rows,
      );
      out.push({ gate, result });
    }
    return out;
  }

  async saveRegistration(site: string, gate: string, id: string, body: unknown, nowMs: number): Promise<boolean> {
    const r = await this.pool.query(
      'INSERT INTO central_registrations (id, gate, site, body, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING',
      [id, gate, site, JSON.stringify(body), nowMs],
    );
    return r.rowCount === 1;
  }

  async saveStatus(site: string, gate: string, status: { online?: unknown }, nowMs: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO central_statuses (gate, site, online, body, received_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (gate) DO UPDATE SET site = excluded.site, online = excluded.online, body = excluded.body, received_at = excluded.received_at`,
      [gate, site, status.online !== false, JSON.stringify(status), nowMs],
    );
  }

  async saveStatuses(list: ReadonlyArray<{ site: string; gate: string; status: { online?: unknown }; at: number }>): Promise<void> {
    // Gate order: two collectors writing overlapping sets lock the rows in one order.
    const sorted = [...list].sort((a, b) => (a.gate < b.gate ? -1 : a.gate > b.gate ? 1 : 0));
    await this.pool.query(
      `INSERT INTO central_statuses (gate, site, online, body, received_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::bigint[]) ORDER BY 1
       ON CONFLICT (gate) DO UPDATE SET site = excluded.site, online = excluded.online, body = excluded.body, received_at = excluded.received_at
       WHERE central_statuses.received_at <= excluded.received_at`,
      [sorted.map((x) => x.gate), sorted.map((x) => x.site), sorted.map((x) => x.status.online !== false), sorted.map((x) => JSON.stringify(x.status)), sorted.map((x) => x.at)],
    );
  }

  async statuses(): Promise<StoredStatus[]> {
    const r = await this.pool.query<{ gate: string; site: string; online: boolean; body: string; received_at: number }>('SELECT * FROM central_statuses ORDER BY gate');
    return r.rows.map((x) => ({ gate: x.gate, site: x.site, online: x.online, status: JSON.parse(x.body) as unknown, receivedAt: x.received_at }));
  }

  async anomalies(gate: string): Promise<StoredAnomaly[]> {
    return (await this.pool.query<StoredAnomaly>('SELECT seq, kind, detail, at FROM central_anomalies WHERE gate = $1 ORDER BY n', [gate])).rows;
  }

  async noteAnomaly(gate: string, seq: number | null, kind: string, detail: string, nowMs: number): Promise<void> {
    await recordAnomaly(this.pool, gate, seq, kind, detail, nowMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.ackTimer);
    await this.flushAcks().catch(() => {});
    await this.pool.end();
  }
}

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
import { GENESIS_HASH, eventBody, hashBody, type VerifyResult } from '../journal.js';
import { CENTRAL_PG_SCHEMA } from '../schema/central-pg.js';
import { verifyPaged, type CollectorStore, type StoredAnomaly, type StoredStatus } from './collector-store.js';
import type { GateChainState, IngestResult, SeqRange } from './central.js';
import type { JournalEvent } from '../types.js';

interface GateRow {
  gate: string;
  site: string;
  contiguous_seq: number;
  verified_seq: number;
  verified_hash: string;
  broken_seq: number | null;
  broken_reason: string | null;
  acked_seq: number;
  max_seq: number;
  last_event_at?: number | null;
}

interface Candidate {
  body: string;
  hash: string;
}

const WALK = 5_000;
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

  /** Ensure the gate's row and lock it for this transaction (the upsert takes the row lock). */
  private async lockGate(c: pg.PoolClient, site: string, gate: string): Promise<GateRow> {
    const r = await c.query<GateRow>(
      `INSERT INTO central_gates (gate, site, verified_hash) VALUES ($1, $2, $3)
       ON CONFLICT (gate) DO UPDATE SET gate = excluded.gate
       RETURNING gate, site, contiguous_seq, verified_seq, verified_hash, broken_seq, broken_reason, acked_seq, max_seq, last_event_at`,
      [gate, site, GENESIS_HASH],
    );
    return r.rows[0]!;
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
    const byGate = new Map<string, { site: string; batch: Map<number, Candidate & { ev: JournalEvent }> }>();
    for (const b of batches) {
      let g = byGate.get(b.gate);
      if (!g) byGate.set(b.gate, (g = { site: b.site, batch: new Map() }));
      for (const ev of b.events) if (!g.batch.has(ev.seq)) g.batch.set(ev.seq, { ev, body: eventBody(ev), hash: ev.hash });
    }
    const gates = [...byGate.keys()].sort();
    const out = await this.tx(async (c) => {
      const locked = await c.query<GateRow>(
        `INSERT INTO central_gates (gate, site, verified_hash)
         SELECT g, s, $3 FROM unnest($1::text[], $2::text[]) AS u(g, s) ORDER BY g
         ON CONFLICT (gate) DO UPDATE SET gate = excluded.gate
         RETURNING gate, site, contiguous_seq, verified_seq, verified_hash, broken_seq, broken_reason, acked_seq, max_seq, last_event_at`,
        [gates, gates.map((g) => byGate.get(g)!.site), GENESIS_HASH],
      );
      const rows = new Map(locked.rows.map((r) => [r.gate, r]));
      const all = gates.flatMap((g) => [...byGate.get(g)!.batch.values()].map((x) => ({ gate: g, ...x })));
      // One statement: insert every batch, and read what each gate had stored
      // beyond its contiguous prefix before (the CTE's snapshot does not see
      // its own inserts): the rows to walk and to compare duplicates with.
      const r = await c.query<{ k: string; gate: string; seq: number; hash: string | null; body: string | null }>(
        `WITH ins AS (
           INSERT INTO central_events (gate, seq, id, ts, type, hash, body, received_at)
           SELECT g, s, i, t, ty, h, b, $8 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(g, s, i, t, ty, h, b)
           ON CONFLICT (gate, seq) DO NOTHING
           RETURNING gate, seq)
         SELECT 'i' AS k, gate, seq, NULL AS hash, NULL AS body FROM ins
         UNION ALL
         SELECT 'o', v.g, o.seq, o.hash, o.body FROM unnest($9::text[], $10::bigint[]) AS v(g, c)
           CROSS JOIN LATERAL (SELECT seq, hash, body FROM central_events WHERE gate = v.g AND seq > v.c ORDER BY seq LIMIT ${WALK}) o`,
        [
          all.map((x) => x.gate), all.map((x) => x.ev.seq), all.map((x) => x.ev.id), all.map((x) => x.ev.ts), all.map((x) => x.ev.type),
          all.map((x) => x.hash), all.map((x) => x.body), nowMs, gates, gates.map((g) => rows.get(g)!.contiguous_seq),
        ],
      );
      const inserted = new Map<string, Set<number>>(gates.map((g) => [g, new Set<number>()]));
      const known = new Map<string, Map<number, Candidate>>(gates.map((g) => [g, new Map<number, Candidate>()]));
      const olderCount = new Map<string, number>();
      for (const x of r.rows) {
        if (x.k === 'i') inserted.get(x.gate)!.add(x.seq);
        else (known.get(x.gate)!.set(x.seq, { hash: x.hash!, body: x.body! }), olderCount.set(x.gate, (olderCount.get(x.gate) ?? 0) + 1));
      }
      const dupGates: string[] = [];
      const dupSeqs: number[] = [];
      for (const g of gates) {
        for (const s of inserted.get(g)!) known.get(g)!.set(s, byGate.get(g)!.batch.get(s)!);
        for (const s of byGate.get(g)!.batch.keys()) if (!inserted.get(g)!.has(s)) (dupGates.push(g), dupSeqs.push(s));
      }
      const duplicates = new Map<string, number>();
      const conflicts = new Map<string, number>();
      if (dupSeqs.length > 0) {
        const stored = await c.query<{ gate: string; seq: number; hash: string }>(
          'SELECT e.gate, e.seq, e.hash FROM central_events e JOIN unnest($1::text[], $2::bigint[]) AS v(g, s) ON e.gate = v.g AND e.seq = v.s',
          [dupGates, dupSeqs],
        );
        for (const s of stored.rows) {
          const mine = byGate.get(s.gate)!.batch.get(s.seq)!;
          if (s.hash === mine.hash) duplicates.set(s.gate, (duplicates.get(s.gate) ?? 0) + 1);
          else {
            conflicts.set(s.gate, (conflicts.get(s.gate) ?? 0) + 1);
            await this.anomaly(c, s.gate, s.seq, 'conflict', `received hash ${mine.hash} differs from stored ${s.hash}`, nowMs);
          }
        }
      }
      const results = new Map<string, IngestResult>();
      const changed: GateRow[] = [];
      for (const g of gates) {
        const row = rows.get(g)!;
        const ins = inserted.get(g)!;
        let maxIns = 0;
        for (const s of ins) if (s > maxIns) maxIns = s;
        const st = ins.size > 0 ? await this.advance(c, row, known.get(g)!, (olderCount.get(g) ?? 0) >= WALK, nowMs) : row;
        const next = { ...st, max_seq: Math.max(row.max_seq, maxIns), last_event_at: ins.size > 0 ? nowMs : row.last_event_at };
        if (ins.size > 0) changed.push(next);
        results.set(g, { inserted: ins.size, duplicates: duplicates.get(g) ?? 0, conflicts: conflicts.get(g) ?? 0, state: toState(next) });
      }
      if (changed.length > 0) {
        await c.query(
          `UPDATE central_gates t SET contiguous_seq = v.c, verified_seq = v.vs, verified_hash = v.vh, broken_seq = v.bs, broken_reason = v.br,
             max_seq = v.m, last_event_at = $8
           FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::bigint[]) AS v(g, c, vs, vh, bs, br, m)
           WHERE t.gate = v.g`,
          [
            changed.map((x) => x.gate), changed.map((x) => x.contiguous_seq), changed.map((x) => x.verified_seq), changed.map((x) => x.verified_hash),
            changed.map((x) => x.broken_seq), changed.map((x) => x.broken_reason), changed.map((x) => x.max_seq), nowMs,
          ],
        );
      }
      return results;
    });
    return batches.map((b) => out.get(b.gate)!);
  }

  /**
   * Walk from the contiguous prefix over `known` rows (and, when the first
   * page of stored rows was full, further pages read in this transaction),
   * moving the prefix and, while the chain holds, the verified seq.
   */
  private async advance(c: pg.PoolClient, row: GateRow, known: Map<number, Candidate>, morePages: boolean, nowMs: number): Promise<GateRow> {
    const st = { ...row };
    for (;;) {
      let next = known.get(st.contiguous_seq + 1);
      if (!next && morePages) {
        const page = await c.query<{ seq: number; hash: string; body: string }>(
          `SELECT seq, hash, body FROM central_events WHERE gate = $1 AND seq > $2 ORDER BY seq LIMIT ${WALK}`,
          [row.gate, st.contiguous_seq],
        );
        known.clear();
        for (const p of page.rows) known.set(p.seq, { hash: p.hash, body: p.body });
        morePages = page.rows.length >= WALK;
        next = known.get(st.contiguous_seq + 1);
      }
      if (!next) break;
      const seq = st.contiguous_seq + 1;
      st.contiguous_seq = seq;
      if (st.broken_seq !== null) continue;
      const problem = chainProblem(seq, next.body, next.hash, st.verified_hash);
      if (problem) {
        st.broken_seq = seq;
        st.broken_reason = problem;
        await this.anomaly(c, row.gate, seq, 'chain_broken', problem, nowMs);
        continue;
      }
      st.verified_seq = seq;
      st.verified_hash = next.hash;
    }
    return st;
  }

  async adoptCheckpoint(site: string, gate: string, seq: number, hash: string, nowMs: number): Promise<boolean> {
    return this.tx(async (c) => {
      const row = await this.lockGate(c, site, gate);
      if (row.contiguous_seq >= seq) return false;
      const from = row.contiguous_seq + 1;
      await this.anomaly(c, gate, seq, 'purged_before_collected', `events ${from}..${seq} were purged by the gate before this store had them; chain resumed from the gate's checkpoint`, nowMs);
      const stored = await c.query<{ hash: string }>('SELECT hash FROM central_events WHERE gate = $1 AND seq = $2', [gate, seq]);
      if (stored.rows[0] && stored.rows[0].hash !== hash) {
        await this.anomaly(c, gate, seq, 'conflict', `checkpoint hash ${hash} differs from stored ${stored.rows[0].hash}`, nowMs);
      }
      const moved: GateRow = { ...row, contiguous_seq: seq };
      if (row.broken_seq === null && row.verified_seq < seq) (moved.verified_seq = seq), (moved.verified_hash = hash);
      const st = await this.advance(c, moved, new Map(), true, nowMs);
      await c.query(
        `UPDATE central_gates SET contiguous_seq = $2, verified_seq = $3, verified_hash = $4, broken_seq = $5, broken_reason = $6, last_event_at = $7 WHERE gate = $1`,
        [gate, st.contiguous_seq, st.verified_seq, st.verified_hash, st.broken_seq, st.broken_reason, nowMs],
      );
      return true;
    });
  }

  private async anomaly(c: pg.PoolClient | pg.Pool, gate: string, seq: number | null, kind: string, detail: string, nowMs: number): Promise<void> {
    await c.query('INSERT INTO central_anomalies (gate, seq, kind, detail, at) VALUES ($1, $2, $3, $4, $5)', [gate, seq, kind, detail, nowMs]);
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
    const out: SeqRange[] = [];
    let expect = st.contiguousSeq + 1;
    let after = st.contiguousSeq;
    while (out.length < limit) {
      const seqs = (await this.pool.query<{ seq: number }>(`SELECT seq FROM central_events WHERE gate = $1 AND seq > $2 ORDER BY seq LIMIT ${WALK}`, [gate, after])).rows;
      if (seqs.length === 0) break;
      for (const { seq } of seqs) {
        if (seq > expect) out.push({ from: expect, to: seq - 1 });
        expect = seq + 1;
        if (out.length >= limit) break;
      }
      after = seqs[seqs.length - 1]!.seq;
    }
    return out;
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
    await this.anomaly(this.pool, gate, seq, kind, detail, nowMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.ackTimer);
    await this.flushAcks().catch(() => {});
    await this.pool.end();
  }
}

function toState(r: GateRow): GateChainState {
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

/** Why a stored event does not follow `prevHash` in the chain (same checks as the SQLite store). */
function chainProblem(seq: number, body: string, hash: string, prevHash: string): string | undefined {
  const ev = JSON.parse(body) as { prevHash?: unknown };
  if (ev.prevHash !== prevHash) return `seq ${seq}: prevHash does not match the hash of seq ${seq - 1}`;
  if (hashBody(prevHash, body) !== hash) return `seq ${seq}: hash does not match its content`;
  return undefined;
}

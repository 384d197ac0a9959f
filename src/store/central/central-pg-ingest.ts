/**
 * One ingest transaction of the PostgreSQL collector store: the batches of
 * many gates stored and their chains advanced, on a client already inside
 * BEGIN (store/central/central-pg.ts runs it). Order of work:
 *
 *   1. lock the gates' rows in gate order (an upsert takes the row lock), so
 *      two collectors with overlapping gate sets never deadlock, and read
 *      each gate's chain state as the database holds it now;
 *   2. one statement inserts every event (ON CONFLICT DO NOTHING, returning
 *      what went in) and reads the rows stored past the prefix of the gates
 *      whose prefix this batch can move while rows wait beyond a gap;
 *   3. duplicates are compared with the stored hash (a conflict is recorded);
 *   4. each gate's chain is walked by `advanceChain` (store/central/chain.ts)
 *      and the new states written back with one statement.
 */
import type pg from 'pg';
import { GENESIS_HASH, eventBody } from '../journal.js';
import type { JournalEvent } from '../types.js';
import { advanceChain, toState, type ChainLink, type GateRow, type IngestResult } from './chain.js';

/** Rows of one gate read per page when walking stored rows past a gap. */
export const WALK = 5_000;

const GATE_COLUMNS = 'gate, site, contiguous_seq, verified_seq, verified_hash, broken_seq, broken_reason, acked_seq, max_seq, last_event_at';

export async function recordAnomaly(c: pg.ClientBase | pg.Pool, gate: string, seq: number | null, kind: string, detail: string, nowMs: number): Promise<void> {
  await c.query('INSERT INTO central_anomalies (gate, seq, kind, detail, at) VALUES ($1, $2, $3, $4, $5)', [gate, seq, kind, detail, nowMs]);
}

/** Ensure one gate's row and lock it for this transaction. */
export async function lockGate(c: pg.ClientBase, site: string, gate: string): Promise<GateRow> {
  const r = await c.query<GateRow>(
    `INSERT INTO central_gates (gate, site, verified_hash) VALUES ($1, $2, $3)
     ON CONFLICT (gate) DO UPDATE SET gate = excluded.gate
     RETURNING ${GATE_COLUMNS}`,
    [gate, site, GENESIS_HASH],
  );
  return r.rows[0]!;
}

/**
 * Walk a gate's chain over `links`, then over further pages of stored rows
 * read in this transaction while `morePages` says the last page was full.
 * A break is recorded as an anomaly.
 */
export async function walkStored(c: pg.ClientBase, row: GateRow, links: Map<number, ChainLink>, morePages: boolean, nowMs: number): Promise<GateRow> {
  let st = row;
  for (;;) {
    const w = advanceChain(st, links);
    st = w.state;
    if (w.broken) await recordAnomaly(c, row.gate, w.broken.seq, 'chain_broken', w.broken.problem, nowMs);
    if (!morePages) return st;
    const page = await c.query<{ seq: number; hash: string; body: string }>(
      `SELECT seq, hash, body FROM central_events WHERE gate = $1 AND seq > $2 ORDER BY seq LIMIT ${WALK}`,
      [row.gate, st.contiguous_seq],
    );
    links = new Map(page.rows.map((p) => [p.seq, { hash: p.hash, body: p.body }]));
    morePages = page.rows.length >= WALK;
    if (!links.has(st.contiguous_seq + 1)) return st;
  }
}

interface Pending extends ChainLink {
  ev: JournalEvent;
}

export async function ingestManyTx(
  c: pg.ClientBase,
  batches: ReadonlyArray<{ site: string; gate: string; events: readonly JournalEvent[] }>,
  nowMs: number,
): Promise<Map<string, IngestResult>> {
  // Each event's canonical body is made once, here: the same text is
  // stored and, in the walk, hashed (its prevHash taken from the parsed event).
  const byGate = new Map<string, { site: string; batch: Map<number, Pending> }>();
  for (const b of batches) {
    let g = byGate.get(b.gate);
    if (!g) byGate.set(b.gate, (g = { site: b.site, batch: new Map() }));
    for (const ev of b.events) if (!g.batch.has(ev.seq)) g.batch.set(ev.seq, { ev, body: eventBody(ev), hash: ev.hash, prevHash: ev.prevHash });
  }
  const gates = [...byGate.keys()].sort();
  const locked = await c.query<GateRow>(
    `INSERT INTO central_gates (gate, site, verified_hash)
     SELECT g, s, $3 FROM unnest($1::text[], $2::text[]) AS u(g, s) ORDER BY g
     ON CONFLICT (gate) DO UPDATE SET gate = excluded.gate
     RETURNING ${GATE_COLUMNS}`,
    [gates, gates.map((g) => byGate.get(g)!.site), GENESIS_HASH],
  );
  const rows = new Map(locked.rows.map((r) => [r.gate, r]));
  // Stored rows past the prefix matter only to a gate whose prefix this
  // batch can move (it holds contiguous+1) while rows wait beyond a gap
  // (max_seq > contiguous): read just those (the CTE's snapshot does not
  // see its own inserts). A gate stuck behind a gap costs nothing per batch.
  const readGates = gates.filter((g) => {
    const r = rows.get(g)!;
    return r.max_seq > r.contiguous_seq && byGate.get(g)!.batch.has(r.contiguous_seq + 1);
  });
  // The rows go as one JSON text (V8's JSON.stringify, PostgreSQL's JSON
  // parser) rather than seven text[] parameters: node-postgres builds array
  // literals in JavaScript, escaping every quote of every body (a tenth of
  // the collector's CPU at 1,000 gates, measured in bench/fleet).
  const rowsJson: Array<[string, number, string, string, string, string, string]> = [];
  for (const g of gates) for (const x of byGate.get(g)!.batch.values()) rowsJson.push([g, x.ev.seq, x.ev.id, x.ev.ts, x.ev.type, x.hash, x.body]);
  const r = await c.query<{ k: string; gate: string; seq: number; hash: string | null; body: string | null }>(
    `WITH ins AS (
       INSERT INTO central_events (gate, seq, id, ts, type, hash, body, received_at)
       SELECT r->>0, (r->>1)::bigint, r->>2, r->>3, r->>4, r->>5, r->>6, $2 FROM json_array_elements($1::json) AS u(r)
       ON CONFLICT (gate, seq) DO NOTHING
       RETURNING gate, seq)
     SELECT 'i' AS k, gate, seq, NULL AS hash, NULL AS body FROM ins
     UNION ALL
     SELECT 'o', v.g, o.seq, o.hash, o.body FROM unnest($3::text[], $4::bigint[]) AS v(g, c)
       CROSS JOIN LATERAL (SELECT seq, hash, body FROM central_events WHERE gate = v.g AND seq > v.c ORDER BY seq LIMIT ${WALK}) o`,
    [JSON.stringify(rowsJson), nowMs, readGates, readGates.map((g) => rows.get(g)!.contiguous_seq)],
  );
  const inserted = new Map<string, Set<number>>(gates.map((g) => [g, new Set<number>()]));
  const known = new Map<string, Map<number, ChainLink>>(gates.map((g) => [g, new Map<number, ChainLink>()]));
  const olderCount = new Map<string, number>();
  for (const x of r.rows) {
    if (x.k === 'i') inserted.get(x.gate)!.add(x.seq);
    else (known.get(x.gate)!.set(x.seq, { hash: x.hash!, body: x.body! }), olderCount.set(x.gate, (olderCount.get(x.gate) ?? 0) + 1));
  }
  const dupGates: string[] = [];
  const dupSeqs: number[] = [];
  for (const g of gates) {
    const batch = byGate.get(g)!.batch;
    for (const s of inserted.get(g)!) known.get(g)!.set(s, batch.get(s)!);
    for (const s of batch.keys()) if (!inserted.get(g)!.has(s)) (dupGates.push(g), dupSeqs.push(s));
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
        await recordAnomaly(c, s.gate, s.seq, 'conflict', `received hash ${mine.hash} differs from stored ${s.hash}`, nowMs);
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
    const st = ins.size > 0 ? await walkStored(c, row, known.get(g)!, (olderCount.get(g) ?? 0) >= WALK, nowMs) : row;
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
}

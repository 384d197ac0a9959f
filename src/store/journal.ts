/**
 * The event journal: append-only, gap-free seq from 1, hash-chained
 * (DESIGN.md "Event journal"). Each row keeps the RFC 8785 canonical JSON of
 * the event without its hash — exactly the bytes the hash covers — so
 * verification re-hashes stored text and never re-serialises.
 */
import { hash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { StoreError } from './db.js';
import { formatTs } from './time.js';
import { EVENT_TYPES, type EventType, type JournalEvent, type NewEvent } from './types.js';

// canonicalize is CommonJS whose .d.ts says `export default`: under NodeNext
// TypeScript types the default import as the module object, so load it plainly.
const canonicalize = createRequire(import.meta.url)('canonicalize') as (v: unknown) => string | undefined;

export const GENESIS_HASH = '0'.repeat(64);

export interface Checkpoint {
  seq: number;
  hash: string;
}

/** RFC 8785 text of a JSON value; throws StoreError BAD_EVENT for NaN, Infinity, undefined. */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (cause) {
    throw new StoreError('BAD_EVENT', `event is not JSON: ${(cause as Error).message}`, { cause });
  }
  if (text === undefined) throw new StoreError('BAD_EVENT', 'event is not JSON');
  return text;
}

/** hex SHA-256(prevHash + "\n" + body), body being the canonical text of the event without hash. */
export function hashBody(prevHash: string, body: string): string {
  // One-shot crypto.hash (Node ≥ 20.12): half the cost of a Hash object per event.
  return hash('sha256', `${prevHash}\n${body}`, 'hex');
}

export function hashEvent(prevHash: string, eventWithoutHash: object): string {
  return hashBody(prevHash, canonicalJson(eventWithoutHash));
}

/** The canonical text a committed event's hash covers (the event minus `hash`). */
export function eventBody(ev: JournalEvent): string {
  const { hash: _hash, ...rest } = ev;
  return canonicalJson(rest);
}

const KNOWN_TYPES: ReadonlySet<string> = new Set<EventType>(EVENT_TYPES);
const RESERVED = ['seq', 'id', 'ts', 'gate', 'prevHash', 'hash'] as const;

interface Row {
  hash: string;
  body: string;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Every value a string, boolean, null or a number that JSON keeps as is: JSON.parse(canonicalJson(o)) would equal o. */
function isFlatJson(o: object): boolean {
  for (const k in o) {
    const v = (o as Record<string, unknown>)[k];
    const t = typeof v;
    if (t === 'string' || t === 'boolean' || v === null) continue;
    if (t === 'number' && Number.isFinite(v) && !Object.is(v, -0)) continue;
    return false;
  }
  return true;
}

function toEvent(row: Row): JournalEvent {
  const ev = JSON.parse(row.body) as JournalEvent;
  ev.hash = row.hash;
  return ev;
}

export class Journal {
  private readonly gateId: string;
  private readonly newId: () => string;
  private readonly sLast: Database.Statement;
  private readonly sInsert: Database.Statement;
  private readonly sGet: Database.Statement;
  private readonly sRange: Database.Statement;
  private readonly sCheckpoint: Database.Statement;
  private readonly sSetCheckpoint: Database.Statement;
  private readonly sPurge: Database.Statement;
  private readonly appendTx: (ev: NewEvent, nowMs: number) => JournalEvent;
  private readonly purgeTx: (seq: number) => number;

  constructor(
    private readonly db: Database.Database,
    opts: { gateId: string; newId?: () => string },
  ) {
    this.gateId = opts.gateId;
    this.newId = opts.newId ?? randomUUID;
    this.sLast = db.prepare('SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1');
    this.sInsert = db.prepare(
      'INSERT INTO journal (seq, ts_ms, type, person_id, reason, direction, hash, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.sGet = db.prepare('SELECT hash, body FROM journal WHERE seq = ?');
    this.sRange = db.prepare('SELECT hash, body FROM journal WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT +?');
    this.sCheckpoint = db.prepare('SELECT seq, hash FROM journal_checkpoint WHERE id = 1');
    this.sSetCheckpoint = db.prepare(
      'INSERT INTO journal_checkpoint (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash',
    );
    this.sPurge = db.prepare('DELETE FROM journal WHERE seq <= ?');
    // IMMEDIATE: take the write lock before reading the head, so seq can
    // never be read stale by a second writer.
    this.appendTx = db.transaction((ev: NewEvent, nowMs: number) => this.insert(ev, nowMs)).immediate;
    this.purgeTx = db.transaction((seq: number) => this.purge(seq)).immediate;
  }

  /** Commit one event; inside an open transaction (AccessLog) it joins that one. */
  append(ev: NewEvent, nowMs: number): JournalEvent {
    return this.db.inTransaction ? this.insert(ev, nowMs) : this.appendTx(ev, nowMs);
  }

  lastSeq(): number {
    return this.head().seq;
  }

  get(seq: number): JournalEvent | undefined {
    const row = this.sGet.get(seq) as Row | undefined;
    return row && toEvent(row);
  }

  /** Events fromSeq..toSeq in seq order, at most limit. */
  range(fromSeq: number, toSeq: number, limit: number): JournalEvent[] {
    return (this.sRange.all(fromSeq, toSeq, limit) as Row[]).map(toEvent);
  }

  checkpoint(): Checkpoint | undefined {
    return this.sCheckpoint.get() as Checkpoint | undefined;
  }

  /** Delete events seq <= N (clamped to the last one), keeping {seq, hash} of the last deleted as checkpoint. */
  purgeUpTo(seq: number): number {
    return this.purgeTx(seq);
  }

  private head(): Checkpoint {
    return (this.sLast.get() as Checkpoint | undefined) ?? this.checkpoint() ?? { seq: 0, hash: GENESIS_HASH };
  }

  private insert(ev: NewEvent, nowMs: number): JournalEvent {
    if (!KNOWN_TYPES.has(ev.type)) throw new StoreError('BAD_EVENT', `unknown event type ${String(ev.type)}`);
    for (const k of RESERVED) {
      if (k in ev) throw new StoreError('BAD_EVENT', `event field "${k}" is set by the journal`);
    }
    let ts: string;
    try {
      ts = formatTs(nowMs);
    } catch (cause) {
      throw new StoreError('BAD_TIME', `journal time is not a time: ${nowMs}`, { cause });
    }
    const head = this.head();
    const seq = head.seq + 1;
    const full = { ...ev, seq, id: this.newId(), ts, gate: this.gateId, prevHash: head.hash };
    const body = canonicalJson(full);
    const hash = hashBody(head.hash, body);
    this.sInsert.run(seq, nowMs, ev.type, str(ev.personId), str(ev.reason), str(ev.direction), hash, body);
    // Hand back exactly what was hashed: an event of plain scalars is that
    // already; anything else (Dates, nested objects, undefined fields) is
    // read back from the text.
    return isFlatJson(full) ? ({ ...full, hash } as JournalEvent) : toEvent({ hash, body });
  }

  private purge(upTo: number): number {
    const last = this.sLast.get() as Checkpoint | undefined;
    if (!last) return 0;
    const n = Math.min(Math.floor(upTo), last.seq);
    const cp = this.checkpoint();
    if (n <= (cp?.seq ?? 0)) return 0;
    const row = this.sGet.get(n) as Row | undefined;
    if (!row) throw new StoreError('JOURNAL_GAP', `journal has no event ${n} to checkpoint: run gatectl journal verify`);
    this.sSetCheckpoint.run(n, row.hash);
    return this.sPurge.run(n).changes;
  }
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBrokenSeq?: number;
  reason?: string;
  /** First and last seq walked (absent when nothing was walked). */
  fromSeq?: number;
  toSeq?: number;
}

/** One stored event as the chain sees it; `columns` are the indexed copies, checked against body when given. */
export interface ChainRow {
  seq: number;
  hash: string;
  /** Canonical JSON of the event without hash (eventBody). */
  body: string;
  columns?: { tsMs: number; type: string; personId: string | null; reason: string | null; direction: string | null };
}

/**
 * Walk rows in seq order from a purge checkpoint (or genesis) and name the
 * first broken seq. Streaming: rows may come from a statement iterator.
 * Also usable by any other store of events (central's collector).
 */
export function verifyRows(rows: Iterable<ChainRow>, start?: Checkpoint): VerifyResult {
  let expectSeq = (start?.seq ?? 0) + 1;
  let prev = start?.hash ?? GENESIS_HASH;
  let checked = 0;
  const broken = (seq: number, reason: string): VerifyResult => ({
    ok: false,
    checked,
    firstBrokenSeq: seq,
    reason,
    ...(checked ? { fromSeq: expectSeq - checked, toSeq: expectSeq - 1 } : {}),
  });
  for (const r of rows) {
    if (r.seq !== expectSeq) {
      if (r.seq > expectSeq) {
        const missing = r.seq - 1 > expectSeq ? `${expectSeq}..${r.seq - 1}` : `${expectSeq}`;
        return broken(expectSeq, `seq gap: event ${missing} missing`);
      }
      return broken(r.seq, start && checked === 0 ? `event ${r.seq} is older than the purge checkpoint (seq ${start.seq})` : `seq ${r.seq} out of order`);
    }
    let ev: Record<string, unknown>;
    try {
      ev = JSON.parse(r.body) as Record<string, unknown>;
    } catch {
      return broken(r.seq, 'stored event is not valid JSON');
    }
    if (ev === null || typeof ev !== 'object') return broken(r.seq, 'stored event is not a JSON object');
    if (ev.seq !== r.seq) return broken(r.seq, `event says seq ${String(ev.seq)}`);
    if (ev.prevHash !== prev) {
      return broken(
        r.seq,
        checked === 0 && start
          ? 'prevHash does not match the purge checkpoint'
          : `prevHash mismatch: does not match the hash of seq ${r.seq - 1}`,
      );
    }
    if (hashBody(prev, r.body) !== r.hash) return broken(r.seq, 'hash mismatch: event or its hash edited');
    if (r.columns) {
      const c = r.columns;
      const bad =
        c.type !== ev.type ? 'type'
        : c.personId !== str(ev.personId) ? 'person_id'
        : c.reason !== str(ev.reason) ? 'reason'
        : c.direction !== str(ev.direction) ? 'direction'
        : c.tsMs !== Date.parse(String(ev.ts)) ? 'ts'
        : undefined;
      if (bad) return broken(r.seq, `indexed column ${bad} differs from the hashed event`);
    }
    prev = r.hash;
    expectSeq++;
    checked++;
  }
  return { ok: true, checked, ...(checked ? { fromSeq: expectSeq - checked, toSeq: expectSeq - 1 } : {}) };
}

interface StoredRow {
  seq: number;
  hash: string;
  body: string;
  ts_ms: number;
  type: string;
  person_id: string | null;
  reason: string | null;
  direction: string | null;
}

/** Verify the journal of a gate database, streaming (never all rows in memory). */
export function verifyChain(db: Database.Database): VerifyResult {
  const has = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('journal', 'journal_checkpoint')");
  if ((has.pluck().get() as number) !== 2) throw new StoreError('NOT_A_GATE_DB', 'not a gate database: no journal table');
  const start = db.prepare('SELECT seq, hash FROM journal_checkpoint WHERE id = 1').get() as Checkpoint | undefined;
  const stmt = db.prepare('SELECT seq, hash, body, ts_ms, type, person_id, reason, direction FROM journal ORDER BY seq');
  function* rows(): Generator<ChainRow> {
    for (const r of stmt.iterate() as IterableIterator<StoredRow>) {
      yield {
        seq: r.seq,
        hash: r.hash,
        body: r.body,
        columns: { tsMs: r.ts_ms, type: r.type, personId: r.person_id, reason: r.reason, direction: r.direction },
      };
    }
  }
  return verifyRows(rows(), start);
}

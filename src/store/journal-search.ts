/**
 * Journal search for the admin page: filters by time, type, reason, person and
 * direction with paging, and a CSV export. Every value reaches SQLite as a
 * bound parameter; only fixed SQL fragments are concatenated.
 *
 * A person filter matches a person id exactly, or any part of a name known to
 * the whitelist or the visitor register (the journal itself holds ids only).
 */
import type Database from 'better-sqlite3';
import type { JournalEvent } from './types.js';

export interface JournalFilter {
  /** Epoch ms, inclusive. */
  fromMs?: number;
  /** Epoch ms, exclusive. */
  toMs?: number;
  type?: string;
  reason?: string;
  direction?: 'in' | 'out';
  /** A person id, or a fragment of a name. */
  person?: string;
}

export interface JournalPage {
  /** Matches, counted up to COUNT_CAP. */
  total: number;
  /** More than COUNT_CAP matched. */
  more: boolean;
  page: number;
  pageSize: number;
  events: JournalEvent[];
}

export const MAX_PAGE_SIZE = 200;
export const MAX_EXPORT_ROWS = 100_000;

interface Where {
  sql: string;
  params: Record<string, unknown>;
}

function whereClause(f: JournalFilter): Where {
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  if (f.fromMs !== undefined) {
    parts.push('ts_ms >= @fromMs');
    params.fromMs = f.fromMs;
  }
  if (f.toMs !== undefined) {
    parts.push('ts_ms < @toMs');
    params.toMs = f.toMs;
  }
  if (f.type) {
    parts.push('type = @type');
    params.type = f.type;
  }
  if (f.reason) {
    parts.push('reason = @reason');
    params.reason = f.reason;
  }
  if (f.direction) {
    parts.push('direction = @direction');
    params.direction = f.direction;
  }
  if (f.person) {
    // SQLite's LIKE ends the pattern at a NUL, leaving "%": that would match everyone.
    if (f.person.includes('\0')) throw Object.assign(new Error('a person filter cannot hold NUL'), { code: 'BAD_FILTER' });
    parts.push(`(person_id = @person OR person_id IN (
        SELECT id FROM people WHERE name LIKE @personLike ESCAPE '\\'
        UNION SELECT person_id FROM visitors WHERE name LIKE @personLike ESCAPE '\\'))`);
    params.person = f.person;
    params.personLike = `%${f.person.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/** Counting stops here: past it the page says "10000+" instead of scanning the whole journal. */
export const COUNT_CAP = 10_000;
const CHUNK = 1_000;

export interface Query {
  sql: string;
  params: Record<string, unknown>;
}

/** The two statements of one page: a capped count and the rows, newest first. */
export function pageQueries(f: JournalFilter, page: number, pageSize: number): { count: Query; rows: Query; page: number; pageSize: number } {
  const size = Math.min(Math.max(1, Math.trunc(pageSize)), MAX_PAGE_SIZE);
  const p = Math.max(1, Math.trunc(page));
  const w = whereClause(f);
  return {
    count: { sql: `SELECT COUNT(*) AS n FROM (SELECT 1 FROM journal ${w.sql} LIMIT @cap)`, params: { ...w.params, cap: COUNT_CAP + 1 } },
    rows: {
      sql: `SELECT body, hash FROM journal ${w.sql} ORDER BY seq DESC LIMIT @limit OFFSET @offset`,
      params: { ...w.params, limit: size, offset: (p - 1) * size },
    },
    page: p,
    pageSize: size,
  };
}

/** One export chunk: matching events after `after`, oldest first. */
export function chunkQuery(f: JournalFilter, after: number, limit: number): Query {
  const w = whereClause(f);
  const cond = w.sql ? `${w.sql} AND seq > @after` : 'WHERE seq > @after';
  return { sql: `SELECT seq, body, hash FROM journal ${cond} ORDER BY seq LIMIT @limit`, params: { ...w.params, after, limit } };
}

type Row = { seq?: number; body: string; hash: string };

function toPage(n: number, rows: Row[], q: ReturnType<typeof pageQueries>): JournalPage {
  return { total: Math.min(n, COUNT_CAP), more: n > COUNT_CAP, page: q.page, pageSize: q.pageSize, events: rows.map(toEvent) };
}

/**
 * Search on the caller's connection. Used for the small, bounded queries
 * (the live page's backlog) and by tests; the admin page's free searches go
 * through JournalSearchWorker so a full scan never stalls the gate's thread.
 */
export class JournalSearch {
  constructor(private readonly db: Database.Database) {}

  /** Newest first. `page` counts from 1. */
  search(f: JournalFilter, page: number, pageSize: number): JournalPage {
    const q = pageQueries(f, page, pageSize);
    const n = (this.db.prepare(q.count.sql).get(q.count.params) as { n: number }).n;
    return toPage(n, this.db.prepare(q.rows.sql).all(q.rows.params) as Row[], q);
  }

  /** The newest `limit` events of the given types (the live page's backlog). */
  recent(limit: number, types?: string[]): JournalEvent[] {
    const n = Math.min(Math.max(1, Math.trunc(limit)), MAX_PAGE_SIZE);
    const typeSql = types?.length ? `WHERE type IN (${types.map((_, i) => `@t${i}`).join(', ')})` : '';
    const params: Record<string, unknown> = { limit: n };
    types?.forEach((t, i) => (params[`t${i}`] = t));
    const rows = this.db
      .prepare(`SELECT body, hash FROM journal ${typeSql} ORDER BY seq DESC LIMIT @limit`)
      .all(params) as Row[];
    return rows.map(toEvent);
  }

  /**
   * Matching events oldest first, in chunks read whole: a statement iterator
   * left open across event-loop turns would make the connection "busy" for
   * the gate's hot-path writes, so each chunk is one complete .all().
   */
  *iterate(f: JournalFilter, maxRows = MAX_EXPORT_ROWS): Generator<JournalEvent> {
    let after = 0;
    let left = maxRows;
    while (left > 0) {
      const q = chunkQuery(f, after, Math.min(CHUNK, left));
      const rows = this.db.prepare(q.sql).all(q.params) as Row[];
      for (const row of rows) yield toEvent(row);
      if (rows.length < Math.min(CHUNK, left)) return;
      after = rows[rows.length - 1]!.seq!;
      left -= rows.length;
    }
  }
}

export function toEvent(row: { body: string; hash: string }): JournalEvent {
  return { ...(JSON.parse(row.body) as Omit<JournalEvent, 'hash'>), hash: row.hash } as JournalEvent;
}

export const CSV_COLUMNS = [
  'seq', 'ts', 'type', 'reader', 'direction', 'credential', 'personId', 'granted', 'reason', 'operator', 'hash',
] as const;

/**
 * One CSV line (RFC 4180 quoting). A cell that a spreadsheet would run as a
 * formula (= + - @ tab CR) is prefixed with ' (OWASP "CSV injection").
 */
export function csvLine(cells: readonly unknown[]): string {
  return cells
    .map((c) => {
      if (c === undefined || c === null) return '';
      let s = typeof c === 'string' ? c : typeof c === 'object' ? JSON.stringify(c) : String(c);
      if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(',');
}

export function csvRow(ev: JournalEvent): string {
  return csvLine(CSV_COLUMNS.map((c) => ev[c]));
}

/**
 * Journal searches (and the muster list) off the gate's thread. A search
 * over a long journal may scan it whole (measured here: 1.2-2.7 s for 1M
 * events on x64, more on a Pi); on the main connection that would hold every
 * tap behind it. This
 * runs the statements JournalSearch builds (journal-search.ts: fixed SQL,
 * bound parameters) in a worker thread on its own read-only connection.
 * The worker starts on the first search and stops after a quiet minute.
 */
import { Worker } from 'node:worker_threads';
import { BACKGROUND_NICE } from '../worker-priority.js';
import {
  chunkQuery, COUNT_CAP, MAX_EXPORT_ROWS, pageQueries, toEvent,
  type JournalFilter, type JournalPage, type Query,
} from './journal-search.js';
import type { JournalEvent } from './types.js';
import { INSIDE_SQL } from './access.js';
import { sqliteModulePath } from './sqlite-driver.js';

/** Plain CommonJS run with `eval: true`, so it works from dist/ and from the .ts sources under vitest. */
const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
// Below the gate's thread (src/worker-priority.ts; nice is per thread on Linux).
try { require('node:os').setPriority(workerData.nice); } catch {}
const Database = require(workerData.sqlite);
let db;
try {
  db = new Database(workerData.path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
} catch (err) {
  parentPort.postMessage({ id: 0, error: String((err && err.message) || err) });
  process.exit(1);
}
const statements = new Map();
parentPort.on('message', (m) => {
  if (m === 'stop') { db.close(); process.exit(0); }
  try {
    let st = statements.get(m.sql);
    if (!st) { st = db.prepare(m.sql); if (statements.size < 64) statements.set(m.sql, st); }
    parentPort.postMessage({ id: m.id, rows: m.op === 'get' ? [st.get(m.params)] : st.all(m.params) });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
  }
});
`;

type Row = { seq?: number; body: string; hash: string };
interface Pending {
  resolve(rows: unknown[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const searchError = (code: 'SEARCH_FAILED' | 'SEARCH_TIMEOUT', message: string) => Object.assign(new Error(message), { code });

export class JournalSearchWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idle: NodeJS.Timeout | undefined;

  constructor(private readonly opts: { path: string; timeoutMs?: number; idleMs?: number }) {}

  async search(f: JournalFilter, page: number, pageSize: number): Promise<JournalPage> {
    const q = pageQueries(f, page, pageSize);
    const [count, rows] = await Promise.all([this.run(q.count, 'get'), this.run(q.rows, 'all')]);
    const n = (count[0] as { n: number }).n;
    return { total: Math.min(n, COUNT_CAP), more: n > COUNT_CAP, page: q.page, pageSize: q.pageSize, events: (rows as Row[]).map(toEvent) };
  }

  /** Matching events oldest first, fetched a chunk at a time. */
  async *iterate(f: JournalFilter, maxRows = MAX_EXPORT_ROWS, chunk = 1_000): AsyncGenerator<JournalEvent> {
    let after = 0;
    let left = maxRows;
    while (left > 0) {
      const want = Math.min(chunk, left);
      const rows = (await this.run(chunkQuery(f, after, want), 'all')) as Row[];
      for (const row of rows) yield toEvent(row);
      if (rows.length < want) return;
      after = rows[rows.length - 1]!.seq!;
      left -= rows.length;
    }
  }

  /** Who is inside now (AccessLog.inside, off the gate's thread). */
  async inside(): Promise<Array<{ personId: string; since: number }>> {
    return (await this.run({ sql: INSIDE_SQL, params: {} }, 'all')) as Array<{ personId: string; since: number }>;
  }

  async close(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    const w = this.worker;
    this.drop(searchError('SEARCH_FAILED', 'search closed'));
    if (w) await w.terminate();
  }

  private run(q: Query, op: 'get' | 'all'): Promise<unknown[]> {
    const worker = this.ensure();
    const id = this.nextId++;
    if (this.idle) clearTimeout(this.idle);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // A runaway scan: end the worker (the only way to stop a running statement) and say so.
        const w = this.worker;
        this.drop(searchError('SEARCH_TIMEOUT', 'the search took too long; narrow it down'));
        void w?.terminate();
      }, this.opts.timeoutMs ?? 60_000);
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, op, sql: q.sql, params: q.params });
    });
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: this.opts.path, sqlite: sqliteModulePath, nice: BACKGROUND_NICE } });
    worker.unref();
    worker.on('message', (m: { id: number; rows?: unknown[]; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) {
        if (m.error) this.drop(searchError('SEARCH_FAILED', m.error));
        return;
      }
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.error) p.reject(searchError('SEARCH_FAILED', m.error));
      else p.resolve(m.rows ?? []);
      if (this.pending.size === 0) this.scheduleIdle();
    });
    worker.on('error', (err) => this.drop(searchError('SEARCH_FAILED', err.message)));
    worker.on('exit', () => {
      if (this.worker === worker) this.drop(searchError('SEARCH_FAILED', 'search worker exited'));
    });
    this.worker = worker;
    return worker;
  }

  private scheduleIdle(): void {
    this.idle = setTimeout(() => {
      const w = this.worker;
      if (!w || this.pending.size) return;
      this.worker = undefined;
      w.postMessage('stop');
    }, this.opts.idleMs ?? 60_000);
    this.idle.unref();
  }

  /** Forget the worker and fail whatever waited on it. */
  private drop(err: Error): void {
    this.worker = undefined;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

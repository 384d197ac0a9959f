/**
 * Opening the gate database. WAL with synchronous NORMAL survives a killed
 * process, FULL also survives power loss (sqlite.org/pragma.html#pragma_synchronous).
 * Automatic checkpoints are off: SQLite would otherwise run one inside
 * whichever commit crosses 1000 pages — a hot-path commit (a 20 ms stall was
 * seen here). WalCheckpointer runs them on its own connection instead.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import SqliteDatabase from './sqlite-driver.js';
import { migrate } from './migrations.js';
import { MIGRATIONS } from './schema/index.js';

export interface StoreOptions {
  path: string;
  synchronous: 'normal' | 'full';
}

export type StoreErrorCode =
  | 'DB_NOT_FOUND'
  | 'DB_UNREADABLE'
  | 'NOT_A_GATE_DB'
  | 'BAD_EVENT'
  | 'BAD_TIME'
  | 'BAD_WHITELIST'
  | 'JOURNAL_GAP'
  | 'CHECKPOINTER_FAILED';

/** Every error the store throws on purpose carries one of these codes. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/**
 * Page size of a new database (it cannot change later without VACUUM). One
 * access commit dirties ~5 pages (journal row, person index, usage,
 * presence, an interior page): measured 19.4 KB of WAL per event at 4096
 * against 6.9 KB at 1024, with the same lookup and commit times at 100k and
 * 1M credentials. Fewer bytes per event is SD-card life on a Pi.
 */
const PAGE_SIZE = 1024;

/**
 * When a connection wraps the WAL after a complete checkpoint, SQLite cuts
 * the file back to this size if it is larger (sqlite.org/pragma.html#pragma_journal_size_limit).
 * The cut is an ftruncate inside the wrapping commit: measured 48 ms for a
 * 35 MB WAL on ext4 mounted with discard, and 103 ms in bench/sync at 1M
 * credentials. So only the checkpointer's connection has the limit: it makes
 * the wrap itself when the gate is quiet (checkpointer-worker.ts), and the
 * cut happens there. The gate's connection has none (journal_size_limit -1):
 * when it wraps the WAL itself, under a steady stream of writes, the file
 * keeps its size until the next quiet wrap. At 1 MiB the cut ran at nearly
 * every wrap; at 32 MiB a WAL that stays under it is written over in place,
 * never cut and never re-grown.
 */
export const WAL_SIZE_LIMIT_BYTES = 32 * 1024 * 1024;

/**
 * SQLite page cache of the gate's connection, in KiB: 4096 pages of 1 KiB.
 * That holds the interior pages of a million-credential whitelist's b-trees
 * (~60 MB at 1 KiB pages), which every tap's point lookups walk; the leaves
 * are random and come from the OS page cache with a pread either way.
 *
 * Not more, because SQLite charges a big cache at commit: when a b-tree
 * page split reorders sibling page numbers (balance_nonroot), SQLite parks a
 * page under the number of the locking page (1 GiB / page size + 1 =
 * 1048577) for a moment, and the commit's pcache1Truncate then walks the
 * whole page-cache hash table, its cost in proportion to the cache. The
 * journal's person index splits that way in ~10% of access commits.
 * Measured (perf uprobe on pcache1TruncateUnsafe, bench:decide): at 16 MiB
 * those walks took 0.18-0.95 ms (median 0.22), and the hot path's p99 at 1M
 * credentials was 0.69-1.06 ms; at 4 MiB they take 26-150 µs (median 35) and
 * p99 is 0.21-0.34 ms, with p50 and lookup times unchanged. Bounded memory,
 * counted in RSS.
 */
const CACHE_KIB = 4 * 1024;

/** How long a writer waits for a lock another connection holds (tools, search worker). */
const BUSY_TIMEOUT_MS = 5_000;

export function openDatabase(opts: StoreOptions): Database.Database {
  const memory = opts.path === ':memory:';
  if (!memory) mkdirSync(dirname(opts.path), { recursive: true });
  const db = new SqliteDatabase(opts.path);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Only takes effect on an empty file, before WAL: an existing database keeps its size.
    db.pragma(`page_size = ${PAGE_SIZE}`);
    if (!memory) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new StoreError('DB_UNREADABLE', `${opts.path}: cannot switch to WAL (got ${String(mode)})`);
    }
    db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma(`cache_size = ${-CACHE_KIB}`);
    db.pragma('wal_autocheckpoint = 0');
    // No cut in the gate's own commits: see WAL_SIZE_LIMIT_BYTES.
    db.pragma('journal_size_limit = -1');
    db.pragma('foreign_keys = ON');
    migrate(db, MIGRATIONS);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * A read-only connection for tools (gatectl journal verify): never creates,
 * never migrates, never writes. Throws StoreError DB_NOT_FOUND / DB_UNREADABLE.
 */
export function openDatabaseReadOnly(path: string): Database.Database {
  let db: Database.Database;
  try {
    db = new SqliteDatabase(path, { readonly: true, fileMustExist: true });
  } catch (cause) {
    const msg = (cause as Error).message;
    if (/does not exist|unable to open|ENOENT/i.test(msg)) {
      throw new StoreError('DB_NOT_FOUND', `${path}: no such database file`, { cause });
    }
    throw new StoreError('DB_UNREADABLE', `${path}: ${msg}`, { cause });
  }
  try {
    // Touch the schema now so "not a database" surfaces here, with a code.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (cause) {
    db.close();
    throw new StoreError('DB_UNREADABLE', `${path}: ${(cause as Error).message}`, { cause });
  }
  return db;
}

/** True when the table exists: tools use it to tell a gate database from any SQLite file. */
export function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

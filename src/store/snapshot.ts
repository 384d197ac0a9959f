/**
 * Big whitelist snapshot apply that never stalls the hot path.
 *
 * WhitelistStore.replaceAll does it in one transaction, which for a million
 * credentials holds the event loop (and the write lock) for seconds. Here
 * the rows go into staging tables in small transactions, each bounded by a
 * time slice and followed by setImmediate so decisions keep running; then
 * one short transaction renames staging over live (a schema change, not a
 * copy), and the old tables are emptied in slices and dropped afterwards.
 *
 * Staging tables are created from the live tables' own DDL (sqlite_master),
 * so a column the store area adds later is carried along. Visitors
 * registered here (origin 'local') survive under the same rule as
 * replaceAll: kept while one of their credentials is still valid, unless the
 * snapshot lists the same person id (central wins) or credential key.
 */
import { performance } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import { StoreError } from './db.js';
import type { WhitelistStore } from './whitelist.js';
import type { Credential, Person, Schedule } from './types.js';

export interface SnapshotChunk {
  people: Person[];
  credentials: Credential[];
  schedules: Schedule[];
}

/**
 * Where the chunks come from: one list of one chunk at a time, so a million
 * rows are never all in memory and each read is a small piece of work.
 */
export interface SnapshotSource {
  chunks: number;
  read<L extends keyof SnapshotChunk>(index: number, list: L): SnapshotChunk[L];
}

/** A source over chunks already in memory (tests, small snapshots). */
export function chunkArraySource(chunks: readonly SnapshotChunk[]): SnapshotSource {
  return { chunks: chunks.length, read: (i, list) => chunks[i]![list] };
}

/** Rows as listed in the snapshot (a key listed twice counts twice). */
export interface SnapshotCounts {
  people: number;
  credentials: number;
  schedules: number;
  /** Local visitors (people) carried over from the previous whitelist. */
  keptLocal: number;
}

export interface SnapshotOptions {
  /** Longest synchronous slice of work before yielding to the event loop (default 2 ms). */
  sliceMs?: number;
  nowMs: number;
  /** Called between slices; throw to abort (e.g. the service stopping). */
  checkpoint?: () => void;
}

const TABLES = ['people', 'credentials', 'schedules'] as const;
type Table = (typeof TABLES)[number];
const KEY: Record<Table, string> = { people: 'id', credentials: 'key', schedules: 'id' };
const stage = (t: Table) => `wl_stage_${t}`;
const old = (t: Table) => `wl_old_${t}`;

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

function isoToMs(iso: string | undefined, what: string): number | null {
  if (iso === undefined) return null;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new StoreError('BAD_WHITELIST', `${what}: not an ISO 8601 time`);
  return ms;
}

export class SnapshotApplier {
  private readonly sliceMs: number;
  /** Rows per staging transaction, adapted to the measured commit cost. */
  private batch = 64;
  private queue: Promise<void> = Promise.resolve();

  private readonly walRoom: () => Promise<void>;

  constructor(
    private readonly db: Database.Database,
    private readonly whitelist: WhitelistStore,
    opts: {
      sliceMs?: number;
      /**
       * Awaited before each transaction: WalCheckpointer.room(), so a long
       * apply lets the WAL wrap instead of growing by every byte it writes.
       */
      walRoom?: () => Promise<void>;
    } = {},
  ) {
    this.sliceMs = opts.sliceMs ?? 2;
    this.walRoom = opts.walRoom ?? (() => Promise.resolve());
  }

  /** Stage, swap, clean up. Rejects (and leaves the live whitelist untouched) on any bad row. */
  apply(version: number, source: SnapshotSource, opts: SnapshotOptions): Promise<SnapshotCounts> {
    return this.serial(() => this.applyNow(version, source, opts));
  }

  /** Empty and drop leftovers of an interrupted apply (call at start). */
  cleanup(sliceMs = this.sliceMs): Promise<void> {
    return this.serial(async () => {
      await this.dropTables(stage, sliceMs, () => undefined);
      await this.dropTables(old, sliceMs, () => undefined);
    });
  }

  /** One apply or cleanup at a time: both drop the same tables. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.then(() => undefined, () => undefined);
    return run;
  }

  private async applyNow(version: number, source: SnapshotSource, opts: SnapshotOptions): Promise<SnapshotCounts> {
    const slice = opts.sliceMs ?? this.sliceMs;
    const check = opts.checkpoint ?? (() => undefined);
    await this.dropTables(stage, slice, check);
    await this.dropTables(old, slice, check);
    this.assertNoForeignReferences();
    this.createStaging();
    const counts: SnapshotCounts = { people: 0, credentials: 0, schedules: 0, keptLocal: 0 };
    try {
      const db = this.db;
      const insPerson = db.prepare(
        `INSERT INTO ${stage('people')} (id, kind, name, host_id, escort, photo, origin) VALUES (?, ?, ?, ?, ?, ?, 'central')
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, host_id = excluded.host_id,
           escort = excluded.escort, photo = excluded.photo`,
      );
      const insSchedule = db.prepare(
        `INSERT INTO ${stage('schedules')} (id, windows, holidays) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET windows = excluded.windows, holidays = excluded.holidays`,
      );
      const insCredential = db.prepare(
        `INSERT INTO ${stage('credentials')} (key, person_id, status, valid_from, valid_to, max_entries, schedule_id)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET person_id = excluded.person_id, status = excluded.status,
           valid_from = excluded.valid_from, valid_to = excluded.valid_to, max_entries = excluded.max_entries,
           schedule_id = excluded.schedule_id`,
      );
      // Pass 1: people and schedules; pass 2: credentials, so each small
      // transaction's deferred foreign-key check finds its person staged.
      for (const pass of ['people', 'credentials'] as const) {
        for (let i = 0; i < source.chunks; i++) {
          // A read is one tick and the inserts start on the next: the two never add up in one slice.
          if (pass === 'people') {
            const schedules = source.read(i, 'schedules');
            counts.schedules += schedules.length;
            await this.sliced(schedules, slice, check, (s) => {
              insSchedule.run(s.id, JSON.stringify(s.windows ?? []), JSON.stringify(s.holidays ?? []));
            });
            const people = source.read(i, 'people');
            counts.people += people.length;
            await yieldLoop();
            await this.sliced(people, slice, check, (p) => {
              insPerson.run(p.id, p.kind, p.name, p.hostId ?? null, p.escort ? 1 : 0, p.photo ?? null);
            });
          } else {
            const credentials = source.read(i, 'credentials');
            counts.credentials += credentials.length;
            await yieldLoop();
            await this.sliced(credentials, slice, check, (c) => {
              insCredential.run(
                c.key, c.personId, c.status,
                isoToMs(c.validFrom, `credential validFrom`), isoToMs(c.validTo, `credential validTo`),
                c.maxEntries ?? null, c.scheduleId ?? null,
              );
            });
          }
          await yieldLoop();
        }
      }
      check();
      counts.keptLocal = this.swap(version, opts.nowMs);
    } catch (err) {
      await this.dropTables(stage, slice, () => undefined);
      const code = (err as { code?: string }).code;
      if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
        throw new StoreError('BAD_WHITELIST', `snapshot ${version} rejected: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
    // WhitelistStore caches schedules; any write through it clears the
    // cache, and an empty remove is exactly that and nothing more.
    this.whitelist.remove({});
    try {
      await this.dropTables(old, slice, check);
    } catch {
      // Stopping: the new whitelist is live; cleanup() empties the old tables at next start.
    }
    return counts;
  }

  /**
   * Rows in transactions sized so each one, commit included, stays near the
   * slice budget: the commit (WAL page writes) costs more than the inserts
   * once the b-trees outgrow the page cache, so the size adapts to what the
   * last transactions really took.
   */
  private async sliced<T>(rows: T[], sliceMs: number, check: () => void, fn: (row: T) => void): Promise<void> {
    let i = 0;
    while (i < rows.length) {
      await this.walRoom();
      check();
      const t0 = performance.now();
      const end = Math.min(rows.length, i + this.batch);
      this.db.transaction(() => {
        for (; i < end; ) {
          fn(rows[i++]!);
          if ((i & 15) === 0 && performance.now() - t0 >= sliceMs) break;
        }
      }).immediate();
      const took = performance.now() - t0;
      const ideal = (this.batch * sliceMs) / Math.max(took, 0.05);
      this.batch = Math.round(Math.max(8, Math.min(5_000, this.batch * 2, ideal)));
      await yieldLoop();
    }
  }

  private swap(version: number, nowMs: number): number {
    let kept = 0;
    // CROSS JOIN keeps people (few local rows, partial index sync_people_local)
    // as the outer loop: this runs inside the one blocking transaction.
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT OR IGNORE INTO ${stage('credentials')}
           SELECT c.* FROM people p CROSS JOIN credentials c
           WHERE c.person_id = p.id AND p.origin = 'local' AND (c.valid_to IS NULL OR c.valid_to > ?)
             AND NOT EXISTS (SELECT 1 FROM ${stage('people')} s WHERE s.id = p.id)`,
        )
        .run(nowMs);
      kept = this.db
        .prepare(
          `INSERT INTO ${stage('people')}
           SELECT p.* FROM people p
           WHERE p.origin = 'local' AND NOT EXISTS (SELECT 1 FROM ${stage('people')} s WHERE s.id = p.id)
             AND EXISTS (SELECT 1 FROM credentials c WHERE c.person_id = p.id AND (c.valid_to IS NULL OR c.valid_to > ?))`,
        )
        .run(nowMs).changes;
      // Renaming a parent rewrites the REFERENCES of its children (SQLite
      // ALTER TABLE, legacy_alter_table off): the old pair stays linked to
      // each other and the new credentials end up referencing `people`.
      for (const t of TABLES) this.db.exec(`ALTER TABLE ${t} RENAME TO ${old(t)}`);
      for (const t of TABLES) this.db.exec(`ALTER TABLE ${stage(t)} RENAME TO ${t}`);
      this.whitelist.setVersion(version);
    }).immediate();
    return kept;
  }

  private createStaging(): void {
    const suffix = `__s${Date.now().toString(36)}`;
    const ddl: string[] = [];
    for (const t of TABLES) {
      const row = this.db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(t) as
        | { sql: string }
        | undefined;
      if (!row) throw new StoreError('BAD_WHITELIST', `no ${t} table to stage a snapshot for`);
      let sql = row.sql.replace(/^CREATE TABLE\s+("[^"]+"|`[^`]+`|\[[^\]]+\]|\w+)/i, `CREATE TABLE ${stage(t)}`);
      sql = sql.replace(/REFERENCES\s+("people"|`people`|\[people\]|people)(?=\s*\()/gi, `REFERENCES ${stage('people')}`);
      ddl.push(sql);
      const idx = this.db
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL")
        .all(t) as Array<{ name: string; sql: string }>;
      for (const i of idx) {
        const name = i.name.replace(/__s[0-9a-z]+$/, '') + suffix;
        ddl.push(
          i.sql
            .replace(/^(CREATE\s+(?:UNIQUE\s+)?INDEX\s+)("[^"]+"|\w+)/i, `$1${name}`)
            .replace(/\bON\s+("[^"]+"|`[^`]+`|\w+)\s*\(/i, `ON ${stage(t)} (`),
        );
      }
    }
    this.db.transaction(() => {
      for (const s of ddl) this.db.exec(s);
    }).immediate();
  }

  /** Tables outside the whitelist that reference it would follow the rename to the old tables. */
  private assertNoForeignReferences(): void {
    const tables = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    for (const name of tables) {
      if ((TABLES as readonly string[]).includes(name) || name.startsWith('wl_')) continue;
      const fks = this.db.prepare(`SELECT "table" FROM pragma_foreign_key_list(?)`).pluck().all(name) as string[];
      const bad = fks.find((f) => (TABLES as readonly string[]).includes(f));
      if (bad) {
        throw new StoreError('BAD_WHITELIST', `table ${name} references ${bad}: a staged snapshot swap would orphan it`);
      }
    }
  }

  private exists(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  /** Children first, a slice of rows per transaction, then DROP of the empty table. */
  private async dropTables(name: (t: Table) => string, sliceMs: number, check: () => void): Promise<void> {
    for (const t of ['credentials', 'people', 'schedules'] as const) {
      const table = name(t);
      if (!this.exists(table)) continue;
      const del = this.db.prepare(`DELETE FROM ${table} WHERE ${KEY[t]} IN (SELECT ${KEY[t]} FROM ${table} LIMIT ?)`);
      let batch = 256;
      for (;;) {
        await this.walRoom();
        check();
        const t0 = performance.now();
        const n = del.run(batch).changes;
        const took = performance.now() - t0;
        if (n === 0) break;
        // Aim each delete at the slice budget.
        batch = Math.max(32, Math.min(20_000, Math.round(took > 0 ? (batch * sliceMs) / took : batch * 2)));
        await yieldLoop();
      }
      this.db.exec(`DROP TABLE ${table}`);
      await yieldLoop();
    }
  }
}

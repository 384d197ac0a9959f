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
import { SnapshotChunks } from './snapshot-chunks.js';
import type { Credential, Person, Schedule } from './types.js';

export interface SnapshotChunk {
  people: Person[];
  credentials: Credential[];
  schedules: Schedule[];
}

/**
 * A snapshot's chunks as stored in sync_wl_chunks (SnapshotChunks.put):
 * indexes 0..chunks-1 of the version being applied, each the chunk's JSON text, already
 * checked against the record schemas (sync/chunk-check.ts). The apply reads
 * the records straight out of that text with SQLite's json_each, in SQL:
 * no record ever becomes a JavaScript object on the gate's thread.
 */
export interface SnapshotSource {
  chunks: number;
}

/**
 * Store chunks held in memory (tests, small snapshots) as the sync stores
 * them (their JSON text's UTF-8 bytes) and name them as a source.
 */
export function storeSnapshotChunks(db: Database.Database, version: number, chunks: readonly SnapshotChunk[]): SnapshotSource {
  const store = new SnapshotChunks(db);
  const utf8 = new TextEncoder();
  db.transaction(() => chunks.forEach((c, i) => store.put(version, i, utf8.encode(JSON.stringify(c)))))();
  return { chunks: chunks.length };
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
  /** Longest synchronous slice of work before yielding to the event loop (default APPLY_SLICE_MS). */
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

/**
 * Default slice, commit included. 1 ms, not 2: a tap waits for the slice in
 * progress, and a timer due during one often waits for two (libuv's timers
 * have 1 ms resolution, so the next check phase can come first). bench/sync,
 * 1M credentials, 2026-11-24: worst decision in the apply proper 3.25-4.39 ms
 * over four runs, against 4.21 and 7.51 ms in two runs with 2 ms slices the
 * same hour (4.70-9.03 ms in six the day before); the apply took 26-29 s
 * instead of 22-24 s.
 */
export const APPLY_SLICE_MS = 1;

/**
 * SQL function (registered on the applier's connection): a validity time as
 * listed (ISO 8601, checked by the chunk schemas) to epoch ms, with
 * Date.parse as everywhere else in the gate; NULL stays NULL.
 */
const ISO_MS = 'gate_snapshot_iso_ms';
function isoToMs(iso: unknown): number | null {
  if (iso === null || iso === undefined) return null;
  const ms = typeof iso === 'string' ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(ms)) throw new StoreError('BAD_WHITELIST', `credential validity ${JSON.stringify(iso)}: not an ISO 8601 time`);
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
    this.sliceMs = opts.sliceMs ?? APPLY_SLICE_MS;
    db.function(ISO_MS, { deterministic: true }, isoToMs);
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
      const each = (list: keyof SnapshotChunk) =>
        `FROM sync_wl_chunks w, json_each(w.body, '$.${list}') j WHERE w.version = ? AND w.idx = ? AND j.key >= ? AND j.key < ?`;
      const insSchedule = db.prepare(
        `INSERT INTO ${stage('schedules')} (id, windows, holidays)
         SELECT j.value ->> 'id', coalesce(j.value -> 'windows', '[]'), coalesce(j.value -> 'holidays', '[]') ${each('schedules')}
         ON CONFLICT (id) DO UPDATE SET windows = excluded.windows, holidays = excluded.holidays`,
      );
      const insPerson = db.prepare(
        `INSERT INTO ${stage('people')} (id, kind, name, host_id, escort, photo, origin)
         SELECT j.value ->> 'id', j.value ->> 'kind', j.value ->> 'name', j.value ->> 'hostId',
           coalesce(j.value ->> 'escort', 0), j.value ->> 'photo', 'central' ${each('people')}
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, host_id = excluded.host_id,
           escort = excluded.escort, photo = excluded.photo`,
      );
      const insCredential = db.prepare(
        `INSERT INTO ${stage('credentials')} (key, person_id, status, valid_from, valid_to, max_entries, schedule_id)
         SELECT j.value ->> 'key', j.value ->> 'personId', j.value ->> 'status',
           ${ISO_MS}(j.value ->> 'validFrom'), ${ISO_MS}(j.value ->> 'validTo'), j.value ->> 'maxEntries', j.value ->> 'scheduleId'
         ${each('credentials')}
         ON CONFLICT (key) DO UPDATE SET person_id = excluded.person_id, status = excluded.status,
           valid_from = excluded.valid_from, valid_to = excluded.valid_to, max_entries = excluded.max_entries,
           schedule_id = excluded.schedule_id`,
      );
      const lengths = db.prepare(
        `SELECT coalesce(json_array_length(body, '$.people'), 0) AS people,
                coalesce(json_array_length(body, '$.credentials'), 0) AS credentials,
                coalesce(json_array_length(body, '$.schedules'), 0) AS schedules
         FROM sync_wl_chunks WHERE version = ? AND idx = ?`,
      );
      // Pass 1: schedules and people; pass 2: credentials, so each small
      // transaction's foreign-key check finds its person staged. Pass 1
      // reads each chunk's list lengths just before its inserts, one chunk
      // per tick (all 2000 chunks of a 1M snapshot at once held the loop
      // 300 ms), and keeps the credential counts for pass 2.
      const credentials: number[] = [];
      for (let i = 0; i < source.chunks; i++) {
        const n = lengths.get(version, i) as { people: number; credentials: number; schedules: number } | undefined;
        if (!n) throw new StoreError('BAD_WHITELIST', `snapshot ${version}: chunk ${i} is not stored`);
        credentials.push(n.credentials);
        counts.schedules += n.schedules;
        counts.people += n.people;
        counts.credentials += n.credentials;
        await yieldLoop();
        await this.sliced(n.schedules, slice, check, (from, to) => insSchedule.run(version, i, from, to));
        await this.sliced(n.people, slice, check, (from, to) => insPerson.run(version, i, from, to));
      }
      for (let i = 0; i < source.chunks; i++) {
        await this.sliced(credentials[i]!, slice, check, (from, to) => insCredential.run(version, i, from, to));
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
   * Records 0..total-1 of one list in transactions sized so each one, commit
   * included, stays near the slice budget: the commit (WAL page writes)
   * costs more than the inserts once the b-trees outgrow the page cache, so
   * the size adapts to what the last transactions really took.
   */
  private async sliced(total: number, sliceMs: number, check: () => void, run: (from: number, to: number) => void): Promise<void> {
    let i = 0;
    while (i < total) {
      await this.walRoom();
      check();
      const t0 = performance.now();
      const end = Math.min(total, i + this.batch);
      this.db.transaction(() => run(i, end)).immediate();
      const rows = end - i;
      i = end;
      const took = performance.now() - t0;
      // From the rows this one really had (a chunk's last transaction has fewer).
      const ideal = (rows * sliceMs) / Math.max(took, 0.05);
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
      const del = this.db.prepare(`DELETE FROM ${table} WHERE ${KEY[t]} IN (SELECT ${KEY[t]} FROM ${table} LIMIT +?)`);
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

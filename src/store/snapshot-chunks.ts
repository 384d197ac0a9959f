/**
 * The signed chunk bodies of a whitelist snapshot, kept in SQLite until the
 * apply (store/snapshot.ts) has read them.
 */
import type Database from 'better-sqlite3';
import type { SnapshotChunk } from './snapshot.js';
import type { Credential, Person, Schedule } from './types.js';

/**
 * Signed chunk bodies collected for a snapshot version, exact text as
 * signed: the manifest hash covers these strings, and keeping them on disk
 * means a restart mid-collection does not fetch them all again.
 */
export class SnapshotChunks {
  private readonly sPut: Database.Statement;
  private readonly sIndexes: Database.Statement;
  private readonly sList: Database.Statement;
  private readonly sBody: Database.Statement;
  private readonly sPrune: Database.Statement;
  private readonly sDrop: Database.Statement;
  private readonly sPeople: Database.Statement;
  private readonly sCredentials: Database.Statement;
  private readonly sSchedules: Database.Statement;

  constructor(db: Database.Database) {
    this.sPut = db.prepare(
      'INSERT INTO sync_wl_chunks (version, idx, body) VALUES (?, ?, ?) ON CONFLICT (version, idx) DO UPDATE SET body = excluded.body',
    );
    this.sIndexes = db.prepare('SELECT count(*) FROM sync_wl_chunks WHERE version = ? AND idx < ?').pluck();
    this.sList = db.prepare('SELECT idx FROM sync_wl_chunks WHERE version = ? AND idx < ?').pluck();
    this.sBody = db.prepare('SELECT body FROM sync_wl_chunks WHERE version = ? AND idx = ?').pluck();
    this.sPrune = db.prepare(
      'DELETE FROM sync_wl_chunks WHERE rowid IN (SELECT rowid FROM sync_wl_chunks WHERE version <= ? LIMIT ?)',
    );
    this.sDrop = db.prepare(
      'DELETE FROM sync_wl_chunks WHERE rowid IN (SELECT rowid FROM sync_wl_chunks WHERE version = ? LIMIT ?)',
    );
    const each = (list: string, cols: string) =>
      db.prepare(
        `SELECT ${cols} FROM sync_wl_chunks w, json_each(w.body, '$.${list}') j WHERE w.version = ? AND w.idx = ?`,
      );
    this.sPeople = each(
      'people',
      `j.value ->> 'id' AS id, j.value ->> 'kind' AS kind, j.value ->> 'name' AS name, j.value ->> 'hostId' AS hostId,
       j.value ->> 'escort' AS escort, j.value ->> 'photo' AS photo`,
    );
    this.sCredentials = each(
      'credentials',
      `j.value ->> 'key' AS key, j.value ->> 'personId' AS personId, j.value ->> 'status' AS status,
       j.value ->> 'validFrom' AS validFrom, j.value ->> 'validTo' AS validTo, j.value ->> 'maxEntries' AS maxEntries,
       j.value ->> 'scheduleId' AS scheduleId`,
    );
    this.sSchedules = each('schedules', `j.value ->> 'id' AS id, j.value -> 'windows' AS windows, j.value -> 'holidays' AS holidays`);
  }

  put(version: number, index: number, body: string): void {
    this.sPut.run(version, index, body);
  }

  /** How many of indexes 0..chunks-1 are here. */
  have(version: number, chunks: number): number {
    return this.sIndexes.get(version, chunks) as number;
  }

  /** Indexes 0..chunks-1 still missing. */
  missing(version: number, chunks: number): number[] {
    const have = new Set(this.sList.all(version, chunks) as number[]);
    const out: number[] = [];
    for (let i = 0; i < chunks; i++) if (!have.has(i)) out.push(i);
    return out;
  }

  body(version: number, index: number): string | undefined {
    return this.sBody.get(version, index) as string | undefined;
  }

  /**
   * One list of a stored chunk (already checked against the schemas, see
   * sync/chunk-check.ts), read out of its text by SQLite's json_each rather
   * than JSON.parse: the strings then come from SQLite and are never
   * internalized in V8's string table, whose growth over a million records
   * would pause the loop (chunk-check.ts has the story).
   */
  records<L extends keyof SnapshotChunk>(version: number, index: number, list: L): SnapshotChunk[L] {
    type Row = Record<string, string | number | null>;
    const opt = <T>(v: string | number | null | undefined) => (v === null || v === undefined ? undefined : (v as T));
    if (list === 'people') {
      return (this.sPeople.all(version, index) as Row[]).map((r): Person => ({
        id: r.id as string,
        kind: r.kind as Person['kind'],
        name: r.name as string,
        hostId: opt<string>(r.hostId),
        escort: r.escort === null ? undefined : r.escort === 1,
        photo: opt<string>(r.photo),
      })) as SnapshotChunk[L];
    }
    if (list === 'credentials') {
      return (this.sCredentials.all(version, index) as Row[]).map((r): Credential => ({
        key: r.key as string,
        personId: r.personId as string,
        status: r.status as Credential['status'],
        validFrom: opt<string>(r.validFrom),
        validTo: opt<string>(r.validTo),
        maxEntries: opt<number>(r.maxEntries),
        scheduleId: opt<string>(r.scheduleId),
      })) as SnapshotChunk[L];
    }
    // Schedules are few (tens): their small windows/holidays arrays are parsed here.
    return (this.sSchedules.all(version, index) as Row[]).map((r): Schedule => ({
      id: r.id as string,
      windows: r.windows === null ? [] : (JSON.parse(r.windows as string) as Schedule['windows']),
      holidays: r.holidays === null ? [] : (JSON.parse(r.holidays as string) as Schedule['holidays']),
    })) as SnapshotChunk[L];
  }

  /**
   * Forget every version up to and including `version`, a few chunks per
   * statement: one DELETE of 2000 × 100 KB bodies held the loop for 350 ms.
   */
  async prune(version: number, perStep = 16): Promise<void> {
    while (this.sPrune.run(version, perStep).changes > 0) await new Promise<void>((r) => setImmediate(r));
  }

  /** Forget one version (a refused snapshot), in steps like prune(). */
  async drop(version: number, perStep = 16): Promise<void> {
    while (this.sDrop.run(version, perStep).changes > 0) await new Promise<void>((r) => setImmediate(r));
  }
}

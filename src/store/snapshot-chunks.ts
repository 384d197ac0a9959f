/**
 * The signed chunk bodies of a whitelist snapshot, kept in SQLite until the
 * apply (store/snapshot.ts) has read them.
 */
import type Database from 'better-sqlite3';

/**
 * Signed chunk bodies collected for a snapshot version, exact text as
 * signed: the manifest hash covers these texts, and keeping them on disk
 * means a restart mid-collection does not fetch them all again. Bodies go in
 * and come out as UTF-8 bytes (stored as TEXT: json_each reads them), so a
 * snapshot's hundreds of megabytes never become strings on the JS heap.
 */
export class SnapshotChunks {
  private readonly sPut: Database.Statement;
  private readonly sIndexes: Database.Statement;
  private readonly sList: Database.Statement;
  private readonly sBody: Database.Statement;
  private readonly sPrune: Database.Statement;
  private readonly sDrop: Database.Statement;

  constructor(db: Database.Database) {
    // CAST: bound bytes are a BLOB; stored as TEXT they are the UTF-8 text json_each reads.
    this.sPut = db.prepare(
      'INSERT INTO sync_wl_chunks (version, idx, body) VALUES (?, ?, CAST(? AS TEXT)) ON CONFLICT (version, idx) DO UPDATE SET body = excluded.body',
    );
    this.sIndexes = db.prepare('SELECT count(*) FROM sync_wl_chunks WHERE version = ? AND idx < ?').pluck();
    this.sList = db.prepare('SELECT idx FROM sync_wl_chunks WHERE version = ? AND idx < ?').pluck();
    this.sBody = db.prepare('SELECT CAST(body AS BLOB) FROM sync_wl_chunks WHERE version = ? AND idx = ?').pluck();
    this.sPrune = db.prepare(
      'DELETE FROM sync_wl_chunks WHERE rowid IN (SELECT rowid FROM sync_wl_chunks WHERE version <= ? LIMIT +?)',
    );
    this.sDrop = db.prepare(
      'DELETE FROM sync_wl_chunks WHERE rowid IN (SELECT rowid FROM sync_wl_chunks WHERE version = ? LIMIT +?)',
    );
  }

  /** A body's UTF-8 bytes. */
  put(version: number, index: number, body: Uint8Array): void {
    this.sPut.run(version, index, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
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

  /** A stored body's UTF-8 bytes. */
  body(version: number, index: number): Buffer | undefined {
    return this.sBody.get(version, index) as Buffer | undefined;
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

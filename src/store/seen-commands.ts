/**
 * Replay protection for central's commands: an id is accepted once. Rows
 * outlive the command's own expiry by a margin, after which the expiry check
 * refuses the command anyway and the row can go.
 */
import type Database from 'better-sqlite3';

/** Keep ids this long past expiresAt, so a gate clock running behind still refuses a replay. */
const KEEP_AFTER_EXPIRY_MS = 24 * 3600_000;

export class SeenCommands {
  private readonly sInsert: Database.Statement;
  private readonly sHas: Database.Statement;
  private readonly sPrune: Database.Statement;

  constructor(db: Database.Database) {
    this.sInsert = db.prepare('INSERT OR IGNORE INTO sync_seen_commands (id, expires_at, seen_at) VALUES (?, ?, ?)');
    this.sHas = db.prepare('SELECT 1 FROM sync_seen_commands WHERE id = ?').pluck();
    this.sPrune = db.prepare('DELETE FROM sync_seen_commands WHERE expires_at < ?');
  }

  /** Record the id; false when it was already seen (a replay). One statement: atomic. */
  claim(id: string, expiresAtMs: number, nowMs: number): boolean {
    return this.sInsert.run(id, expiresAtMs, nowMs).changes === 1;
  }

  has(id: string): boolean {
    return this.sHas.get(id) !== undefined;
  }

  /** Forget ids whose command expired long ago; returns rows removed. */
  prune(nowMs: number): number {
    return this.sPrune.run(nowMs - KEEP_AFTER_EXPIRY_MS).changes;
  }
}

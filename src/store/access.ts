/**
 * The hot-path write. One access (or passage) is one transaction: the usage
 * counter, the journal event and the presence row commit together or not at
 * all, and the caller moves the relay only after record() returns.
 */
import type Database from 'better-sqlite3';
import type { Direction } from '../drivers/types.js';
import type { Journal } from './journal.js';
import type { JournalEvent, NewEvent } from './types.js';

export interface AccessRecordArgs {
  event: NewEvent;
  nowMs: number;
  /** Credential key whose entries_used grows by one (a granted entry). */
  countEntryFor?: string;
  /** Where the person now is (anti-passback, who is inside). */
  presence?: { personId: string; direction: Direction };
}

export class AccessLog {
  private readonly sCount: Database.Statement;
  private readonly sPresence: Database.Statement;
  private readonly sLastDirection: Database.Statement;
  private readonly sInside: Database.Statement;
  private readonly sUsed: Database.Statement;
  private readonly sForgetPresence: Database.Statement;
  private readonly recordTx: (args: AccessRecordArgs) => JournalEvent;

  constructor(
    db: Database.Database,
    private readonly journal: Journal,
  ) {
    this.sCount = db.prepare(
      'INSERT INTO credential_usage (key, entries_used) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET entries_used = entries_used + 1',
    );
    this.sPresence = db.prepare(
      'INSERT INTO presence (person_id, direction, ts_ms) VALUES (?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET direction = excluded.direction, ts_ms = excluded.ts_ms',
    );
    this.sLastDirection = db.prepare('SELECT direction FROM presence WHERE person_id = ?').pluck();
    this.sInside = db.prepare("SELECT person_id AS personId, ts_ms AS since FROM presence WHERE direction = 'in' ORDER BY ts_ms");
    this.sUsed = db.prepare('SELECT entries_used FROM credential_usage WHERE key = ?').pluck();
    this.sForgetPresence = db.prepare('DELETE FROM presence WHERE person_id = ?');
    this.recordTx = db.transaction((a: AccessRecordArgs) => {
      if (a.countEntryFor !== undefined) this.sCount.run(a.countEntryFor);
      const ev = this.journal.append(a.event, a.nowMs);
      if (a.presence) this.sPresence.run(a.presence.personId, a.presence.direction, a.nowMs);
      return ev;
    }).immediate;
  }

  /** Commit the event with its side effects; returns the committed event. */
  record(args: AccessRecordArgs): JournalEvent {
    return this.recordTx(args);
  }

  /** Anti-passback: the person's last recorded direction. */
  lastDirection(personId: string): Direction | undefined {
    return this.sLastDirection.get(personId) as Direction | undefined;
  }

  /** Who is inside now (last direction 'in'), oldest first. Admin page, not the hot path. */
  inside(): Array<{ personId: string; since: number }> {
    return this.sInside.all() as Array<{ personId: string; since: number }>;
  }

  /** Entries counted for a key, listed or not (QR passes are verified offline, never listed). */
  entriesUsed(key: string): number {
    return (this.sUsed.get(key) as number | undefined) ?? 0;
  }

  /** Retention / purge-person: drop the person's presence row. */
  forgetPerson(personId: string): void {
    this.sForgetPresence.run(personId);
  }
}

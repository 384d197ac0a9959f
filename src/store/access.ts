/**
 * The hot-path write. One access (or passage) is one transaction: the usage
 * counter, the journal event and (for a credential with no whitelist record)
 * the presence row commit together or not at all, and the caller moves the
 * relay only after record() returns.
 *
 * Presence (anti-passback, who is inside) of a listed person is not written
 * anywhere: it is the direction of their last granted `access` event, read
 * from the journal's covering person index (types.ts presenceSql, read by
 * WhitelistStore.lookup with the credential). Only a
 * credential with no record (a QR pass, an unknown card let through in an
 * emergency), whose events carry no person id, keeps a row in `presence`,
 * keyed by credential key.
 */
import type Database from 'better-sqlite3';
import type { Direction } from '../types.js';
import type { Journal } from './journal.js';
import { GRANTING_SQL, type JournalEvent, type NewEvent } from './types.js';

/**
 * Who is inside now, oldest first: each person's newest granting event (an
 * index-only walk of journal_person, its time read from the row only for
 * those inside), and the unlisted credentials' presence rows. It walks the
 * whole index (measured 0.46 s for 1M events of 200k people on x64): the
 * admin page runs it in the journal-search worker, never on the gate's thread.
 */
export const INSIDE_SQL = `
  SELECT j.person_id AS personId, j.ts_ms AS since
  FROM (SELECT person_id, max(seq) AS seq FROM journal
        WHERE person_id IS NOT NULL AND type = 'access' AND reason IN (${GRANTING_SQL})
        GROUP BY person_id) last
  JOIN journal j ON j.seq = last.seq
  WHERE j.direction = 'in'
  UNION ALL
  SELECT person_id, ts_ms FROM presence WHERE direction = 'in'
  ORDER BY since`;

export interface AccessRecordArgs {
  event: NewEvent;
  nowMs: number;
  /** Credential key whose entries_used grows by one (a granted entry). */
  countEntryFor?: string | undefined;
  /** A granted credential with no whitelist record: where its holder now is. */
  unlisted?: { key: string; direction: Direction } | undefined;
}

export class AccessLog {
  private readonly sCount: Database.Statement;
  private readonly sUnlisted: Database.Statement;
  private readonly sUnlistedDirection: Database.Statement;
  private readonly sInside: Database.Statement;
  private readonly sUsed: Database.Statement;
  private readonly recordTx: (args: AccessRecordArgs) => JournalEvent;

  constructor(
    db: Database.Database,
    private readonly journal: Journal,
  ) {
    this.sCount = db.prepare(
      'INSERT INTO credential_usage (key, entries_used) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET entries_used = entries_used + 1',
    );
    this.sUnlisted = db.prepare(
      'INSERT INTO presence (person_id, direction, ts_ms) VALUES (?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET direction = excluded.direction, ts_ms = excluded.ts_ms',
    );
    this.sUnlistedDirection = db.prepare('SELECT direction FROM presence WHERE person_id = ?').pluck();
    this.sInside = db.prepare(INSIDE_SQL);
    this.sUsed = db.prepare('SELECT entries_used FROM credential_usage WHERE key = ?').pluck();
    this.recordTx = db.transaction((a: AccessRecordArgs) => {
      if (a.countEntryFor !== undefined) this.sCount.run(a.countEntryFor);
      const ev = this.journal.append(a.event, a.nowMs);
      if (a.unlisted) this.sUnlisted.run(a.unlisted.key, a.unlisted.direction, a.nowMs);
      return ev;
    }).immediate;
  }

  /** Commit the event with its side effects; returns the committed event. */
  record(args: AccessRecordArgs): JournalEvent {
    return this.recordTx(args);
  }

  /** Anti-passback for a credential with no whitelist record, by key. */
  unlistedDirection(key: string): Direction | undefined {
    return this.sUnlistedDirection.get(key) as Direction | undefined;
  }

  /**
   * Who is inside now (last direction 'in'), oldest first: person ids, and
   * keys of unlisted credentials. Scans the journal's person index: not for
   * the gate's thread on a real journal (see INSIDE_SQL).
   */
  inside(): Array<{ personId: string; since: number }> {
    return this.sInside.all() as Array<{ personId: string; since: number }>;
  }

  /** Entries counted for a key, listed or not (QR passes are verified offline, never listed). */
  entriesUsed(key: string): number {
    return (this.sUsed.get(key) as number | undefined) ?? 0;
  }
}

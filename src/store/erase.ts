/**
 * The one privacy erase of a person (DESIGN.md: personal data purged on
 * request and when its retention ends). Used by central's purge-person
 * command (sync/commands.ts) and by the visitor retention purge
 * (admin/visitor-purge.ts); each caller journals its own `purge` event.
 *
 * One SQLite transaction removes, per person: the whitelist person and its
 * credentials (ON DELETE CASCADE), the registrations queued for central, and
 * the visitor record (name, phone, masked document…). Then, after the
 * commit, the photo files go: a crash in between leaves an orphan photo,
 * never a row pointing nowhere, and a failed transaction removes nothing.
 */
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type Database from 'better-sqlite3';
import { hasTable } from './db.js';
import { RegistrationOutbox } from './registrations.js';
import { VisitorStore } from './visitors.js';
import type { WhitelistStore } from './whitelist.js';

export interface EraseOptions {
  /**
   * 'all' (central's purge-person): the whitelist person goes whoever listed it.
   * 'local' (retention): only a person registered here (origin 'local'); once
   * central has taken a person over, the whitelist entry is central's to keep
   * or drop, and the visitor record, queued registrations and photo go alone.
   */
  whitelist: 'all' | 'local';
}

export interface Erased {
  personId: string;
  /** A whitelist person (and with it its credentials) was removed. */
  person: boolean;
  /** A visitor record was removed. */
  visitor: boolean;
  /** Queued registrations removed. */
  registrations: number;
}

export class PersonEraser {
  private readonly visitors: VisitorStore | undefined;
  private readonly outbox: RegistrationOutbox;

  /** `dataDir`: photos live in `${dataDir}/photos/` (admin/registration.ts writes them). */
  constructor(
    private readonly db: Database.Database,
    private readonly whitelist: WhitelistStore,
    private readonly dataDir: string,
  ) {
    // A store opened without the admin area's tables has no visitor records to erase.
    this.visitors = hasTable(db, 'visitors') ? new VisitorStore(db) : undefined;
    this.outbox = new RegistrationOutbox(db);
  }

  /** Erase every listed person in one transaction, then their photo files. Throws (and erases nothing) when the transaction fails. */
  erase(personIds: readonly string[], opts: EraseOptions): Erased[] {
    const photos: string[] = [];
    const out = this.db.transaction(() =>
      personIds.map((personId) => {
        const v = this.visitors?.get(personId);
        const p = this.whitelist.person(personId);
        const person = p !== undefined && (opts.whitelist === 'all' || p.origin === 'local');
        // Credentials go with the person (ON DELETE CASCADE); a card since
        // re-registered to someone else belongs to them and stays.
        if (person) this.whitelist.remove({ people: [personId] });
        const registrations = this.outbox.removePerson(personId);
        const visitor = this.visitors?.remove(personId) ?? false;
        if (v?.photoFile) photos.push(v.photoFile);
        return { personId, person, visitor, registrations } satisfies Erased;
      }),
    ).immediate();
    // Files after the rows (see the header).
    for (const f of photos) rmSync(join(this.dataDir, 'photos', basename(f)), { force: true });
    return out;
  }
}

/**
 * Registrations of visitors made on site, waiting for central's ack
 * (DESIGN.md `…/{gate}/registrations`). This is the only gate → central
 * message with names, so a row lives only until central acks it (or the
 * person is purged).
 */
import type Database from 'better-sqlite3';
import { StoreError } from './db.js';
import type { Credential, Person } from './types.js';

/** DESIGN.md registrations message: the personal data central needs. */
export interface Registration {
  id: string;
  person: Person & { phone?: string; organisation?: string; purpose?: string; host?: string; [k: string]: unknown };
  credential: Credential;
  /** ISO 8601. */
  registeredAt: string;
  operator: string;
}

export interface PendingRegistration {
  registration: Registration;
  createdAt: number;
  sentCount: number;
  lastSentAt?: number;
}

interface Row {
  body: string;
  created_at: number;
  sent_count: number;
  last_sent_at: number | null;
}

export class RegistrationOutbox {
  private readonly sAdd: Database.Statement;
  private readonly sPending: Database.Statement;
  private readonly sAck: Database.Statement;
  private readonly sSent: Database.Statement;
  private readonly sCount: Database.Statement;
  private readonly sRemovePerson: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly clock: () => number = Date.now,
  ) {
    this.sAdd = db.prepare(
      `INSERT INTO sync_registrations (id, person_id, body, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET person_id = excluded.person_id, body = excluded.body`,
    );
    this.sPending = db.prepare(
      'SELECT body, created_at, sent_count, last_sent_at FROM sync_registrations ORDER BY created_at, id LIMIT +?',
    );
    this.sAck = db.prepare('DELETE FROM sync_registrations WHERE id = ?');
    this.sSent = db.prepare('UPDATE sync_registrations SET sent_count = sent_count + 1, last_sent_at = ? WHERE id = ?');
    this.sCount = db.prepare('SELECT count(*) FROM sync_registrations').pluck();
    this.sRemovePerson = db.prepare('DELETE FROM sync_registrations WHERE person_id = ?');
  }

  /** Queue a registration for central; the same id again replaces the queued one. */
  add(reg: Registration): void {
    if (!reg || typeof reg.id !== 'string' || !reg.id || typeof reg.person?.id !== 'string') {
      throw new StoreError('BAD_EVENT', 'registration needs an id and a person id');
    }
    this.sAdd.run(reg.id, reg.person.id, JSON.stringify(reg), this.clock());
  }

  /** Oldest first. */
  pending(limit = 100): PendingRegistration[] {
    return (this.sPending.all(limit) as Row[]).map((r) => {
      const p: PendingRegistration = {
        registration: JSON.parse(r.body) as Registration,
        createdAt: r.created_at,
        sentCount: r.sent_count,
      };
      if (r.last_sent_at !== null) p.lastSentAt = r.last_sent_at;
      return p;
    });
  }

  /** Central has it: the row (and its personal data) goes. False when unknown (already acked). */
  ack(id: string): boolean {
    return this.sAck.run(id).changes === 1;
  }

  markSent(id: string, nowMs: number): void {
    this.sSent.run(nowMs, id);
  }

  count(): number {
    return this.sCount.get() as number;
  }

  /** purge-person: drop anything still queued for this person. */
  removePerson(personId: string): number {
    return this.sRemovePerson.run(personId).changes;
  }
}

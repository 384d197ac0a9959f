/**
 * Store area tables: the journal, the whitelist, usage counters, presence
 * (of credentials with no whitelist record, since core-004) and settings.
 * Indexes are few on purpose: every index is one more b-tree write inside
 * the hot-path commit (see the measurements in the store report).
 */
import type { Migration } from '../migrations.js';

export const CORE_MIGRATIONS: Migration[] = [
  {
    id: 'core-001-journal',
    up(db) {
      db.exec(`
        -- body is the RFC 8785 canonical JSON of the event without its hash:
        -- exactly the bytes the hash covers. The other columns are copies the
        -- admin page filters on; verifyChain checks they agree with body.
        CREATE TABLE journal (
          seq INTEGER PRIMARY KEY,
          ts_ms INTEGER NOT NULL,
          type TEXT NOT NULL,
          person_id TEXT,
          reason TEXT,
          direction TEXT,
          hash TEXT NOT NULL,
          body TEXT NOT NULL
        );
        -- "where did this person go": the one filter that is selective.
        -- Time ranges use seq order (ts follows seq), type/reason/direction
        -- are low-cardinality and filtered while walking seq backwards.
        CREATE INDEX journal_person ON journal (person_id, seq) WHERE person_id IS NOT NULL;
        -- {seq, hash} of the last purged event: verification restarts there.
        CREATE TABLE journal_checkpoint (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          seq INTEGER NOT NULL,
          hash TEXT NOT NULL
        );
      `);
    },
  },
  {
    id: 'core-002-whitelist',
    up(db) {
      db.exec(`
        CREATE TABLE people (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('staff', 'visitor', 'contractor', 'security')),
          name TEXT NOT NULL,
          host_id TEXT,
          escort INTEGER NOT NULL DEFAULT 0,
          photo TEXT,
          origin TEXT NOT NULL CHECK (origin IN ('central', 'local'))
        ) WITHOUT ROWID;
        -- valid_from / valid_to are epoch ms. Deleting a person deletes its
        -- credentials; deferred so one transaction may insert in any order.
        CREATE TABLE credentials (
          key TEXT PRIMARY KEY,
          person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
          status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'blacklisted')),
          valid_from INTEGER,
          valid_to INTEGER,
          max_entries INTEGER,
          schedule_id TEXT
        ) WITHOUT ROWID;
        CREATE INDEX credentials_person ON credentials (person_id);
        CREATE TABLE schedules (
          id TEXT PRIMARY KEY,
          windows TEXT NOT NULL,
          holidays TEXT NOT NULL
        ) WITHOUT ROWID;
        -- Local state, outside the whitelist tables: a snapshot replace never
        -- resets it. Keyed by credential key (a pass need not be listed).
        CREATE TABLE credential_usage (
          key TEXT PRIMARY KEY,
          entries_used INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE presence (
          person_id TEXT PRIMARY KEY,
          direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
          ts_ms INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    id: 'core-003-settings',
    up(db) {
      // value is JSON text.
      db.exec(`CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`);
    },
  },
  {
    id: 'core-004-presence-from-journal',
    up(db) {
      db.exec(`
        -- A listed person's presence (anti-passback, who is inside) is their
        -- last granted access event, read from this index alone: the journal
        -- row that a tap writes anyway, instead of a presence row written by
        -- every grant (one b-tree less in the hot-path commit). type, reason
        -- and direction make the index covering for that read; the person
        -- filter of the journal search uses its (person_id, seq) prefix as before.
        DROP INDEX journal_person;
        CREATE INDEX journal_person ON journal (person_id, seq, type, reason, direction) WHERE person_id IS NOT NULL;
        -- The presence table keeps only credentials with no whitelist record
        -- (QR passes, unknown cards let through in an emergency): their
        -- events carry no person id.
        DELETE FROM presence WHERE person_id IN (SELECT id FROM people);
      `);
    },
  },
];

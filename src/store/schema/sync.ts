/**
 * Sync area tables: the outbox cursor (what central has acked), command ids
 * already executed (replay protection), visitor registrations waiting for
 * central's ack, and whitelist snapshot chunks collected before an apply.
 * Events themselves stay in the journal: the outbox is the journal tail
 * after `acked_seq`, never a copy (LIBRARIES.md: no in-memory MQTT store).
 */
import type { Migration } from '../migrations.js';

export const SYNC_MIGRATIONS: Migration[] = [
  {
    id: 'sync-001-outbox',
    up(db) {
      db.exec(`
        -- One row: every event with seq <= acked_seq is stored at central.
        CREATE TABLE sync_outbox (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          acked_seq INTEGER NOT NULL,
          acked_at INTEGER NOT NULL
        ) STRICT;
        INSERT INTO sync_outbox (id, acked_seq, acked_at) VALUES (1, 0, 0);

        -- A command id is refused once seen; kept until it could no longer
        -- pass the expiry check anyway (expires_at, epoch ms).
        CREATE TABLE sync_seen_commands (
          id TEXT PRIMARY KEY,
          expires_at INTEGER NOT NULL,
          seen_at INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX sync_seen_commands_expiry ON sync_seen_commands (expires_at);

        -- On-site registrations (the only gate -> central message with
        -- names): deleted as soon as central acks them.
        CREATE TABLE sync_registrations (
          id TEXT PRIMARY KEY,
          person_id TEXT NOT NULL,
          body TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          sent_count INTEGER NOT NULL DEFAULT 0,
          last_sent_at INTEGER
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX sync_registrations_person ON sync_registrations (person_id);

        -- Signed snapshot chunk bodies (exact text, hashed in index order),
        -- kept until their version is applied or superseded.
        CREATE TABLE sync_wl_chunks (
          version INTEGER NOT NULL,
          idx INTEGER NOT NULL,
          body TEXT NOT NULL,
          UNIQUE (version, idx)
        ) STRICT;
      `);
    },
  },
  {
    id: 'sync-002-local-people-index',
    up(db) {
      // The snapshot swap carries visitors registered on site (origin
      // 'local') over to the new whitelist inside its one short
      // transaction; without this partial index that is a scan of every
      // person. It holds only local rows, so central rows cost nothing.
      db.exec(`CREATE INDEX sync_people_local ON people (id) WHERE origin = 'local'`);
    },
  },
];

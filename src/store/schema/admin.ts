/**
 * Admin area tables: sign-in accounts and their sessions, and the personal
 * data of visitors registered on site. Personal data lives only in
 * `visitors` (and the person's display name in the whitelist), so the
 * retention purge has one place to clear.
 */
import type { Migration } from '../migrations.js';

export const ADMIN_MIGRATIONS: Migration[] = [
  {
    id: 'admin-001-accounts',
    up(db) {
      db.exec(`
        CREATE TABLE admin_accounts (
          name          TEXT PRIMARY KEY,
          role          TEXT NOT NULL CHECK (role IN ('guard', 'admin')),
          password_hash TEXT NOT NULL,
          disabled      INTEGER NOT NULL DEFAULT 0,
          created_at    INTEGER NOT NULL,
          updated_at    INTEGER NOT NULL
        ) STRICT;
        -- token_hash: SHA-256 of the cookie value, so a copy of the database
        -- cannot be replayed as a session.
        CREATE TABLE admin_sessions (
          token_hash  TEXT PRIMARY KEY,
          account     TEXT NOT NULL REFERENCES admin_accounts(name) ON DELETE CASCADE,
          csrf        TEXT NOT NULL,
          created_at  INTEGER NOT NULL,
          expires_at  INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX admin_sessions_account ON admin_sessions(account);
        CREATE INDEX admin_sessions_expires ON admin_sessions(expires_at);
      `);
    },
  },
  {
    id: 'admin-002-visitors',
    up(db) {
      db.exec(`
        CREATE TABLE visitors (
          person_id      TEXT PRIMARY KEY,
          name           TEXT NOT NULL,
          id_type        TEXT NOT NULL,
          id_masked      TEXT NOT NULL,
          id_key         TEXT NOT NULL,
          phone          TEXT NOT NULL,
          organisation   TEXT NOT NULL,
          purpose        TEXT NOT NULL,
          host           TEXT NOT NULL,
          host_id        TEXT,
          valid_from     INTEGER NOT NULL,
          valid_to       INTEGER NOT NULL,
          items          TEXT,
          vehicle_plate  TEXT,
          special_needs  TEXT,
          escort         INTEGER NOT NULL DEFAULT 0,
          review         TEXT NOT NULL CHECK (review IN ('none', 'pending', 'approved')),
          credential_key TEXT NOT NULL,
          pass_token     TEXT,
          photo_file     TEXT,
          registered_at  INTEGER NOT NULL,
          operator       TEXT NOT NULL,
          approved_by    TEXT,
          approved_at    INTEGER
        ) STRICT;
        CREATE INDEX visitors_valid_to ON visitors(valid_to);
        CREATE INDEX visitors_review ON visitors(review) WHERE review = 'pending';
      `);
    },
  },
  {
    // A resident ID card read at the desk: its last valid day (YYYY-MM-DD or
    // 'long-term'). Nothing else of the card is kept (issue #17).
    id: 'admin-003-visitor-id-valid-to',
    up(db) {
      db.exec('ALTER TABLE visitors ADD COLUMN id_valid_to TEXT');
    },
  },
];

/**
 * Schema of the central collector's own database (`gatectl central --db`),
 * a separate file from any gate's. Versioned with PRAGMA user_version: the
 * list only grows; a step never changes once released.
 */
export const CENTRAL_SCHEMA: readonly string[] = [
  // 1: events keyed by (gate, seq), chain state per gate, registrations, statuses, anomalies
  `
  CREATE TABLE central_events (
    gate TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    ts TEXT NOT NULL,
    type TEXT NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL,          -- RFC 8785 JSON of the event without hash: the bytes the hash covers
    received_at INTEGER NOT NULL,
    PRIMARY KEY (gate, seq)
  ) WITHOUT ROWID;
  CREATE INDEX central_events_ts ON central_events (gate, ts);

  CREATE TABLE central_gates (
    gate TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    contiguous_seq INTEGER NOT NULL DEFAULT 0,  -- every seq 1..N stored
    verified_seq INTEGER NOT NULL DEFAULT 0,    -- chain checked up to N
    verified_hash TEXT NOT NULL,
    broken_seq INTEGER,                         -- first seq whose hash or link is wrong
    broken_reason TEXT,
    acked_seq INTEGER NOT NULL DEFAULT 0,
    last_event_at INTEGER
  );

  CREATE TABLE central_registrations (
    id TEXT PRIMARY KEY,
    gate TEXT NOT NULL,
    site TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );

  CREATE TABLE central_statuses (
    gate TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    online INTEGER NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );

  CREATE TABLE central_anomalies (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    gate TEXT NOT NULL,
    seq INTEGER,
    kind TEXT NOT NULL,          -- chain_broken | conflict | bad_payload
    detail TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  `,
  // 2: when a replay of this gate's gap was last asked for, claimed by one
  // collector of the group so the others do not ask again within the grace
  `
  ALTER TABLE central_gates ADD COLUMN replay_asked_at INTEGER;
  `,
];

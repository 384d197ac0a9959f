/**
 * Schema of the collector's store on PostgreSQL (`gatectl central --db
 * postgres://…`): the same tables as the SQLite store (schema/central.ts),
 * plus `max_seq` kept on the gate row so the gap chase reads one table.
 * Forward-only migrations by id, like the gate's (store/migrations.ts): a
 * step never changes once released. `body` is TEXT, not jsonb: it holds the
 * exact RFC 8785 bytes the hash covers.
 */
export interface PgMigration {
  id: string;
  sql: string;
}

export const CENTRAL_PG_SCHEMA: readonly PgMigration[] = [
  {
    id: 'central-pg-001-events',
    sql: `
    CREATE TABLE central_events (
      gate TEXT NOT NULL,
      seq BIGINT NOT NULL,
      id TEXT NOT NULL,
      ts TEXT NOT NULL,
      type TEXT NOT NULL,
      hash TEXT NOT NULL,
      body TEXT NOT NULL,
      received_at BIGINT NOT NULL,
      PRIMARY KEY (gate, seq)
    );
    CREATE INDEX central_events_ts ON central_events (gate, ts);

    CREATE TABLE central_gates (
      gate TEXT PRIMARY KEY,
      site TEXT NOT NULL,
      contiguous_seq BIGINT NOT NULL DEFAULT 0,
      verified_seq BIGINT NOT NULL DEFAULT 0,
      verified_hash TEXT NOT NULL,
      broken_seq BIGINT,
      broken_reason TEXT,
      acked_seq BIGINT NOT NULL DEFAULT 0,
      max_seq BIGINT NOT NULL DEFAULT 0,
      last_event_at BIGINT,
      replay_asked_at BIGINT
    );

    CREATE TABLE central_registrations (
      id TEXT PRIMARY KEY,
      gate TEXT NOT NULL,
      site TEXT NOT NULL,
      body TEXT NOT NULL,
      received_at BIGINT NOT NULL
    );

    CREATE TABLE central_statuses (
      gate TEXT PRIMARY KEY,
      site TEXT NOT NULL,
      online BOOLEAN NOT NULL,
      body TEXT NOT NULL,
      received_at BIGINT NOT NULL
    );

    CREATE TABLE central_anomalies (
      n BIGSERIAL PRIMARY KEY,
      gate TEXT NOT NULL,
      seq BIGINT,
      kind TEXT NOT NULL,
      detail TEXT NOT NULL,
      at BIGINT NOT NULL
    );
    CREATE INDEX central_anomalies_gate ON central_anomalies (gate, n);
    `,
  },
];

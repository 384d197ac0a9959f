/**
 * Forward-only schema migrations. Each migration runs once, in list order,
 * inside its own transaction together with its row in schema_migrations, so
 * a crash half-way leaves either all of it or none of it.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  /** Stable and unique across all areas, e.g. "core-001-journal". Never renamed once shipped. */
  id: string;
  up(db: Database.Database): void;
}

export function migrate(db: Database.Database, list: Migration[]): void {
  const ids = new Set<string>();
  for (const m of list) {
    if (ids.has(m.id)) throw Object.assign(new Error(`duplicate migration id ${m.id}`), { code: 'MIGRATION_DUPLICATE' });
    ids.add(m.id);
  }
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL
  ) WITHOUT ROWID`);
  const applied = new Set(
    (db.prepare('SELECT id FROM schema_migrations').pluck().all() as string[]),
  );
  const mark = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  for (const m of list) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      m.up(db);
      mark.run(m.id, new Date().toISOString());
    }).immediate();
  }
}

/**
 * Small persistent key → JSON value pairs: the gate mode, the whitelist
 * version, sync cursors. Not for anything large or hot.
 */
import type Database from 'better-sqlite3';

export class Settings {
  private readonly sGet: Database.Statement;
  private readonly sSet: Database.Statement;
  private readonly sDelete: Database.Statement;

  constructor(db: Database.Database) {
    this.sGet = db.prepare('SELECT value FROM settings WHERE key = ?').pluck();
    this.sSet = db.prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    this.sDelete = db.prepare('DELETE FROM settings WHERE key = ?');
  }

  get<T>(key: string): T | undefined {
    const text = this.sGet.get(key) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  /** `undefined` removes the key. The value must survive JSON (no functions, no BigInt). */
  set(key: string, value: unknown): void {
    if (value === undefined) {
      this.sDelete.run(key);
      return;
    }
    this.sSet.run(key, JSON.stringify(value));
  }
}

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from '../../src/store/sqlite-driver.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, openDatabaseReadOnly, StoreError } from '../../src/store/db.js';
import { migrate, type Migration } from '../../src/store/migrations.js';
import { AccessLog } from '../../src/store/access.js';
import { Journal } from '../../src/store/journal.js';
import { WhitelistStore } from '../../src/store/whitelist.js';
import { MIGRATIONS } from '../../src/store/schema/index.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'store-db-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tables = (db: InstanceType<typeof Database>) =>
  db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];

describe('migrate', () => {
  it('applies each migration once; running again changes nothing', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS);
    const first = tables(db);
    const applied = db.prepare('SELECT id FROM schema_migrations ORDER BY id').pluck().all();
    expect(first).toEqual(expect.arrayContaining(['journal', 'journal_checkpoint', 'people', 'credentials', 'schedules', 'credential_usage', 'presence', 'settings']));
    expect(applied).toEqual(MIGRATIONS.map((m) => m.id).sort());
    migrate(db, MIGRATIONS); // would throw "table journal already exists" if re-run
    expect(tables(db)).toEqual(first);
    expect(db.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBe(MIGRATIONS.length);
  });

  it('runs only the new migration when the list grows', () => {
    const db = new Database(':memory:');
    let runs = 0;
    const a: Migration = { id: 'test-001', up: (d) => d.exec('CREATE TABLE a (x)') };
    const b: Migration = { id: 'test-002', up: (d) => { runs++; d.exec('CREATE TABLE b (x)'); } };
    migrate(db, [a]);
    migrate(db, [a, b]);
    migrate(db, [a, b]);
    expect(runs).toBe(1);
    expect(tables(db)).toEqual(['a', 'b', 'schema_migrations']);
  });

  it('a failing migration leaves neither its tables nor its row', () => {
    const db = new Database(':memory:');
    const bad: Migration = { id: 'test-bad', up: (d) => { d.exec('CREATE TABLE half (x)'); throw new Error('boom'); } };
    expect(() => migrate(db, [bad])).toThrow('boom');
    expect(tables(db)).toEqual(['schema_migrations']);
    expect(db.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBe(0);
  });

  it('core-004 moves listed people\'s presence to the journal and keeps the rows of unlisted credentials', () => {
    // A database from before core-004: presence rows written by every grant.
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.filter((m) => m.id !== 'core-004-presence-from-journal'));
    db.exec(`INSERT INTO people (id, kind, name, origin) VALUES ('p1', 'staff', 'x', 'central');
             INSERT INTO credentials (key, person_id, status) VALUES ('card:01020304', 'p1', 'active');
             INSERT INTO journal (seq, ts_ms, type, person_id, reason, direction, hash, body)
               VALUES (1, 1000, 'access', 'p1', 'GRANTED', 'in', 'h', '{}');
             INSERT INTO presence VALUES ('p1', 'in', 1000), ('pass:abc', 'in', 2000);`);
    migrate(db, MIGRATIONS);
    expect(db.prepare('SELECT person_id FROM presence').pluck().all()).toEqual(['pass:abc']);
    const access = new AccessLog(db, new Journal(db, { gateId: 'g1' }));
    expect(new WhitelistStore(db).lookup('card:01020304')!.lastDirection).toBe('in');
    expect(access.unlistedDirection('pass:abc')).toBe('in');
    expect(access.inside()).toEqual([{ personId: 'p1', since: 1000 }, { personId: 'pass:abc', since: 2000 }]);
    const cols = db.prepare("SELECT name FROM pragma_index_info('journal_person')").pluck().all();
    expect(cols).toEqual(['person_id', 'seq', 'type', 'reason', 'direction']);
  });

  it('refuses two migrations with one id', () => {
    const db = new Database(':memory:');
    const m: Migration = { id: 'dup', up: () => {} };
    expect(() => migrate(db, [m, m])).toThrow(expect.objectContaining({ code: 'MIGRATION_DUPLICATE' }));
  });
});

describe('openDatabase', () => {
  it('creates the parent directory, WAL, no automatic checkpoint, foreign keys on, 4 MiB page cache', () => {
    const path = join(tmp(), 'deep', 'er', 'gate.db');
    const db = openDatabase({ path, synchronous: 'normal' });
    expect(existsSync(path)).toBe(true);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('page_size', { simple: true })).toBe(1024);
    // 4 MiB, not more: every commit after a b-tree split walks the whole cache (db.ts, CACHE_KIB).
    expect(db.pragma('cache_size', { simple: true })).toBe(-4096);
    db.close();
  });

  it('an existing database keeps its page size', () => {
    const path = join(tmp(), 'old.db');
    const old = new Database(path);
    old.pragma('page_size = 4096');
    old.exec('CREATE TABLE legacy (x)');
    old.close();
    const db = openDatabase({ path, synchronous: 'normal' });
    expect(db.pragma('page_size', { simple: true })).toBe(4096);
    expect(tables(db)).toContain('journal');
    db.close();
  });

  it('synchronous FULL when configured, and reopening migrates nothing twice', () => {
    const path = join(tmp(), 'gate.db');
    openDatabase({ path, synchronous: 'normal' }).close();
    const db = openDatabase({ path, synchronous: 'full' });
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBe(MIGRATIONS.length);
    db.close();
  });

  it('accepts :memory: for tests', () => {
    const db = openDatabase({ path: ':memory:', synchronous: 'normal' });
    expect(tables(db)).toContain('journal');
    db.close();
  });
});

describe('openDatabaseReadOnly', () => {
  it('DB_NOT_FOUND for a missing file, and does not create it', () => {
    const path = join(tmp(), 'nope.db');
    expect(() => openDatabaseReadOnly(path)).toThrow(expect.objectContaining({ code: 'DB_NOT_FOUND' }));
    expect(existsSync(path)).toBe(false);
  });

  it('DB_UNREADABLE for a file that is not SQLite', async () => {
    const path = join(tmp(), 'junk.db');
    (await import('node:fs')).writeFileSync(path, 'this is not a database, just text that is long enough'.repeat(20));
    const err = (() => {
      try {
        openDatabaseReadOnly(path);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('DB_UNREADABLE');
  });

  it('cannot write', () => {
    const path = join(tmp(), 'gate.db');
    openDatabase({ path, synchronous: 'normal' }).close();
    const ro = openDatabaseReadOnly(path);
    expect(() => ro.prepare("INSERT INTO settings (key, value) VALUES ('a', '1')").run()).toThrow(/readonly/i);
    ro.close();
  });
});

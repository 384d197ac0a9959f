/**
 * The whitelist cached from central (plus visitors registered on site). The
 * hot path reads it with ONE indexed point query per credential; it is never
 * copied whole into JS memory. Usage counters live in their own table and
 * presence is read from the journal (AccessLog), so replacing the whitelist
 * never resets them.
 */
import type Database from 'better-sqlite3';
import { StoreError } from './db.js';
import { Settings } from './settings.js';
import { presenceSql, type AccessRecord, type Credential, type Origin, type Person, type Schedule } from './types.js';

export interface WhitelistData {
  people?: Person[];
  credentials?: Credential[];
  schedules?: Schedule[];
}
export interface WhitelistKeys {
  people?: string[];
  credentials?: string[];
  schedules?: string[];
}
export interface WhitelistDelta {
  version: number;
  baseVersion: number;
  upsert: WhitelistData;
  delete: WhitelistKeys;
}
export type DeltaOutcome = 'applied' | 'stale' | 'gap';

const VERSION_KEY = 'whitelist.version';
/** Schedules are few; the cap only guards against a pathological whitelist. */
const SCHEDULE_CACHE_MAX = 1_000;

interface LookupRow {
  key: string;
  personId: string;
  kind: AccessRecord['kind'];
  hostId: string | null;
  escort: number;
  status: AccessRecord['status'];
  validFrom: number | null;
  validTo: number | null;
  maxEntries: number | null;
  entriesUsed: number;
  scheduleId: string | null;
  origin: Origin;
  lastDirection: 'in' | 'out' | null;
}

function isoToMs(iso: string | undefined, what: string): number | null {
  if (iso === undefined) return null;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new StoreError('BAD_TIME', `${what}: not an ISO 8601 time`);
  return ms;
}

export class WhitelistStore {
  private readonly settings: Settings;
  private readonly sLookup: Database.Statement;
  private readonly sSchedule: Database.Statement;
  private readonly sPerson: Database.Statement;
  private readonly sUpsertPerson: Database.Statement;
  private readonly sUpsertCredential: Database.Statement;
  private readonly sUpsertSchedule: Database.Statement;
  private readonly sDeletePerson: Database.Statement;
  private readonly sDeleteCredential: Database.Statement;
  private readonly sDeleteSchedule: Database.Statement;
  private readonly sLocalKept: Database.Statement;
  private readonly sLocalKeptCredentials: Database.Statement;
  private readonly scheduleCache = new Map<string, Schedule | undefined>();
  private readonly tx: <T>(fn: () => T) => T;

  constructor(private readonly db: Database.Database) {
    this.settings = new Settings(db);
    // \`+?\`, not \`?\`: the same value and plan, but with better-sqlite3 13
    // (Node 22.14+/24, sqlite-driver.ts) a bare parameter in this join made
    // SQLite prepare the statement again at every call, 80-100 µs instead
    // of 10 per lookup (12.x: 13 µs either way).
    this.sLookup = db.prepare(`
      SELECT c.key AS key, c.person_id AS personId, p.kind AS kind, p.host_id AS hostId, p.escort AS escort,
             c.status AS status, c.valid_from AS validFrom, c.valid_to AS validTo, c.max_entries AS maxEntries,
             -- Entries are counted only for credentials with maxEntries and for
             -- passes (gate.ts): for the rest the usage b-tree is not visited.
             CASE WHEN c.max_entries IS NOT NULL OR substr(c.key, 1, 5) = 'pass:'
                  THEN coalesce((SELECT u.entries_used FROM credential_usage u WHERE u.key = c.key), 0)
                  ELSE 0 END AS entriesUsed,
             c.schedule_id AS scheduleId, p.origin AS origin, ${presenceSql('c.person_id')} AS lastDirection
      FROM credentials c
      JOIN people p ON p.id = c.person_id
      WHERE c.key = +?`);
    this.sSchedule = db.prepare('SELECT windows, holidays FROM schedules WHERE id = ?');
    this.sPerson = db.prepare('SELECT id, kind, name, host_id, escort, photo, origin FROM people WHERE id = ?');
    this.sUpsertPerson = db.prepare(`
      INSERT INTO people (id, kind, name, host_id, escort, photo, origin) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, host_id = excluded.host_id,
        escort = excluded.escort, photo = excluded.photo, origin = excluded.origin`);
    this.sUpsertCredential = db.prepare(`
      INSERT INTO credentials (key, person_id, status, valid_from, valid_to, max_entries, schedule_id) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET person_id = excluded.person_id, status = excluded.status,
        valid_from = excluded.valid_from, valid_to = excluded.valid_to, max_entries = excluded.max_entries,
        schedule_id = excluded.schedule_id`);
    this.sUpsertSchedule = db.prepare(`
      INSERT INTO schedules (id, windows, holidays) VALUES (?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET windows = excluded.windows, holidays = excluded.holidays`);
    this.sDeletePerson = db.prepare('DELETE FROM people WHERE id = ?');
    this.sDeleteCredential = db.prepare('DELETE FROM credentials WHERE key = ?');
    this.sDeleteSchedule = db.prepare('DELETE FROM schedules WHERE id = ?');
    // Local people holding at least one credential still valid at ?.
    this.sLocalKept = db.prepare(`
      SELECT id, kind, name, host_id, escort, photo, origin FROM people p
      WHERE p.origin = 'local' AND EXISTS (
        SELECT 1 FROM credentials c WHERE c.person_id = p.id AND (c.valid_to IS NULL OR c.valid_to > ?))`);
    this.sLocalKeptCredentials = db.prepare(`
      SELECT c.key, c.person_id, c.status, c.valid_from, c.valid_to, c.max_entries, c.schedule_id
      FROM credentials c JOIN people p ON p.id = c.person_id
      WHERE p.origin = 'local' AND (c.valid_to IS NULL OR c.valid_to > ?)`);
    const tx = db.transaction((fn: () => unknown) => fn());
    this.tx = <T>(fn: () => T) => tx.immediate(fn) as T;
  }

  /** The hot-path read: credential ⋈ person ⋈ usage by primary key. */
  lookup(key: string): AccessRecord | undefined {
    const r = this.sLookup.get(key) as LookupRow | undefined;
    if (!r) return undefined;
    const rec: AccessRecord = {
      key: r.key,
      personId: r.personId,
      kind: r.kind,
      escort: r.escort === 1,
      status: r.status,
      entriesUsed: r.entriesUsed,
      origin: r.origin,
    };
    if (r.hostId !== null) rec.hostId = r.hostId;
    if (r.validFrom !== null) rec.validFrom = r.validFrom;
    if (r.validTo !== null) rec.validTo = r.validTo;
    if (r.maxEntries !== null) rec.maxEntries = r.maxEntries;
    if (r.scheduleId !== null) rec.scheduleId = r.scheduleId;
    if (r.lastDirection !== null) rec.lastDirection = r.lastDirection;
    return rec;
  }

  schedule(id: string): Schedule | undefined {
    if (this.scheduleCache.has(id)) return this.scheduleCache.get(id);
    const row = this.sSchedule.get(id) as { windows: string; holidays: string } | undefined;
    const s = row && { id, windows: JSON.parse(row.windows) as Schedule['windows'], holidays: JSON.parse(row.holidays) as string[] };
    if (this.scheduleCache.size >= SCHEDULE_CACHE_MAX) this.scheduleCache.clear();
    this.scheduleCache.set(id, s);
    return s;
  }

  version(): number {
    return this.settings.get<number>(VERSION_KEY) ?? 0;
  }

  setVersion(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new StoreError('BAD_WHITELIST', `whitelist version must be a non-negative integer, got ${v}`);
    this.settings.set(VERSION_KEY, v);
  }

  /** Admin page and registrations only; never the hot path. */
  person(id: string): (Person & { origin: Origin }) | undefined {
    const r = this.sPerson.get(id) as
      | { id: string; kind: Person['kind']; name: string; host_id: string | null; escort: number; photo: string | null; origin: Origin }
      | undefined;
    if (!r) return undefined;
    const p: Person & { origin: Origin } = { id: r.id, kind: r.kind, name: r.name, escort: r.escort === 1, origin: r.origin };
    if (r.host_id !== null) p.hostId = r.host_id;
    if (r.photo !== null) p.photo = r.photo;
    return p;
  }

  /** Insert or update, one transaction. A credential naming an unknown person fails it whole (BAD_WHITELIST). */
  upsert(data: WhitelistData, origin: Origin): void {
    this.write(() => this.upsertRows(data, origin));
  }

  remove(data: WhitelistKeys): void {
    this.write(() => this.removeRows(data));
  }

  /** DESIGN.md delta: applied only on top of the exact base version; older versions are replays. */
  applyDelta(d: WhitelistDelta): DeltaOutcome {
    return this.write(() => {
      const local = this.version();
      if (d.version <= local) return 'stale';
      if (d.baseVersion !== local) return 'gap';
      this.removeRows(d.delete);
      this.upsertRows(d.upsert, 'central');
      this.setVersion(d.version);
      return 'applied';
    });
  }

  /**
   * Replace the whole whitelist in one transaction (small snapshots, seeding).
   * Visitors registered here (origin 'local') survive with their credentials
   * still valid at nowMs, unless the new data lists the same person id, in
   * which case central's version wins.
   */
  replaceAll(version: number, data: WhitelistData, opts: { nowMs?: number } = {}): void {
    const now = opts.nowMs ?? Date.now();
    this.write(() => {
      const newIds = new Set((data.people ?? []).map((p) => p.id));
      const keptPeople = (this.sLocalKept.all(now) as Array<Record<string, unknown>>).filter(
        (p) => !newIds.has(p.id as string),
      );
      const keptIds = new Set(keptPeople.map((p) => p.id));
      const newKeys = new Set((data.credentials ?? []).map((c) => c.key));
      const keptCredentials = (this.sLocalKeptCredentials.all(now) as Array<Record<string, unknown>>).filter(
        (c) => keptIds.has(c.person_id) && !newKeys.has(c.key as string),
      );
      this.db.exec('DELETE FROM credentials; DELETE FROM people; DELETE FROM schedules;');
      this.upsertRows(data, 'central');
      for (const p of keptPeople) this.sUpsertPerson.run(p.id, p.kind, p.name, p.host_id, p.escort, p.photo, 'local');
      for (const c of keptCredentials) {
        this.sUpsertCredential.run(c.key, c.person_id, c.status, c.valid_from, c.valid_to, c.max_entries, c.schedule_id);
      }
      this.setVersion(version);
    });
  }

  private write<T>(fn: () => T): T {
    this.scheduleCache.clear();
    try {
      return this.tx(fn);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const code = (err as { code?: string }).code;
      if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
        throw new StoreError('BAD_WHITELIST', `whitelist rejected: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    } finally {
      this.scheduleCache.clear();
    }
  }

  private upsertRows(data: WhitelistData, origin: Origin): void {
    for (const p of data.people ?? []) {
      this.sUpsertPerson.run(p.id, p.kind, p.name, p.hostId ?? null, p.escort ? 1 : 0, p.photo ?? null, origin);
    }
    for (const s of data.schedules ?? []) {
      this.sUpsertSchedule.run(s.id, JSON.stringify(s.windows ?? []), JSON.stringify(s.holidays ?? []));
    }
    for (const c of data.credentials ?? []) {
      this.sUpsertCredential.run(
        c.key,
        c.personId,
        c.status,
        isoToMs(c.validFrom, `credential ${c.key} validFrom`),
        isoToMs(c.validTo, `credential ${c.key} validTo`),
        c.maxEntries ?? null,
        c.scheduleId ?? null,
      );
    }
  }

  private removeRows(data: WhitelistKeys): void {
    for (const key of data.credentials ?? []) this.sDeleteCredential.run(key);
    for (const id of data.people ?? []) this.sDeletePerson.run(id);
    for (const id of data.schedules ?? []) this.sDeleteSchedule.run(id);
  }
}

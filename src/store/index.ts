/**
 * The store's front door: one connection, one object per concern. Only this
 * folder holds SQL. The WAL checkpointer is a separate component (main.ts
 * starts it after openStore and stops it before close).
 *
 * Writing several things in one transaction elsewhere in store/: use
 * `db.transaction(fn).immediate`. A deferred transaction that reads first
 * and writes later can fail with SQLITE_BUSY (no busy wait) when
 * another connection commits in between.
 */
import type Database from 'better-sqlite3';
import { AccessLog } from './access.js';
import { openDatabase, type StoreOptions } from './db.js';
import { Journal } from './journal.js';
import { Settings } from './settings.js';
import { WhitelistStore } from './whitelist.js';
import { AccountStore } from './accounts.js';
import { VisitorStore } from './visitors.js';
import { Outbox } from './outbox.js';
import { RegistrationOutbox } from './registrations.js';
import { SeenCommands } from './seen-commands.js';
import { SnapshotChunks } from './snapshot-chunks.js';
import { SnapshotApplier } from './snapshot.js';
import { PersonEraser } from './erase.js';
import { JournalSearch } from './journal-search.js';

export { AccessLog, type AccessRecordArgs } from './access.js';
export { WalCheckpointer, type CheckpointResult } from './checkpointer.js';
export { openDatabase, openDatabaseReadOnly, StoreError, type StoreErrorCode, type StoreOptions } from './db.js';
export {
  GENESIS_HASH, Journal, canonicalJson, eventBody, hashBody, hashEvent, verifyChain, verifyRows,
  type ChainRow, type Checkpoint, type VerifyResult,
} from './journal.js';
export { Settings } from './settings.js';
export { formatTs, parseTs } from './time.js';
export { WhitelistStore, type DeltaOutcome, type WhitelistData, type WhitelistDelta, type WhitelistKeys } from './whitelist.js';
export type * from './types.js';

export interface Store {
  /**
   * The raw connection: for src/store and tests only. Code outside src/store
   * takes the objects below and runs multi-object writes through
   * transaction() (tests/architecture/imports.test.ts checks it).
   */
  db: Database.Database;
  journal: Journal;
  whitelist: WhitelistStore;
  access: AccessLog;
  settings: Settings;
  /** Built once, on first use. */
  readonly outbox: Outbox;
  readonly registrations: RegistrationOutbox;
  readonly seenCommands: SeenCommands;
  readonly snapshotChunks: SnapshotChunks;
  readonly accounts: AccountStore;
  readonly visitors: VisitorStore;
  readonly journalSearch: JournalSearch;
  /** The database file, or undefined for an in-memory store (no worker thread can open it). */
  readonly file: string | undefined;
  /** A whitelist snapshot applier (it holds the apply queue: one per sync service). */
  snapshotApplier(opts?: ConstructorParameters<typeof SnapshotApplier>[2]): SnapshotApplier;
  /** The privacy erase, photos under `${dataDir}/photos/`; one per data directory. */
  eraser(dataDir: string): PersonEraser;
  /** Run fn in one (deferred) transaction across several of the objects above. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export function openStore(opts: StoreOptions & { gateId: string; newId?: () => string; clock?: () => number }): Store {
  const db = openDatabase(opts);
  const journal = new Journal(db, { gateId: opts.gateId, ...(opts.newId ? { newId: opts.newId } : {}) });
  const whitelist = new WhitelistStore(db);
  const once = <T>(make: () => T): (() => T) => {
    let made: { v: T } | undefined;
    return () => (made ??= { v: make() }).v;
  };
  const outbox = once(() => new Outbox(db, journal));
  const registrations = once(() => new RegistrationOutbox(db, opts.clock));
  const seenCommands = once(() => new SeenCommands(db));
  const snapshotChunks = once(() => new SnapshotChunks(db));
  const accounts = once(() => new AccountStore(db));
  const visitors = once(() => new VisitorStore(db));
  const journalSearch = once(() => new JournalSearch(db));
  const erasers = new Map<string, PersonEraser>();
  return {
    db,
    journal,
    whitelist,
    access: new AccessLog(db, journal),
    settings: new Settings(db),
    get outbox() {
      return outbox();
    },
    get registrations() {
      return registrations();
    },
    get seenCommands() {
      return seenCommands();
    },
    get snapshotChunks() {
      return snapshotChunks();
    },
    get accounts() {
      return accounts();
    },
    get visitors() {
      return visitors();
    },
    get journalSearch() {
      return journalSearch();
    },
    file: db.memory ? undefined : db.name,
    snapshotApplier: (o) => new SnapshotApplier(db, whitelist, o),
    eraser: (dataDir) => {
      let e = erasers.get(dataDir);
      if (!e) erasers.set(dataDir, (e = new PersonEraser(db, whitelist, dataDir)));
      return e;
    },
    transaction: (fn) => db.transaction(fn)(),
    close: () => {
      if (db.open) db.close();
    },
  };
}

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
  db: Database.Database;
  journal: Journal;
  whitelist: WhitelistStore;
  access: AccessLog;
  settings: Settings;
  close(): void;
}

export function openStore(opts: StoreOptions & { gateId: string; newId?: () => string }): Store {
  const db = openDatabase(opts);
  const journal = new Journal(db, { gateId: opts.gateId, ...(opts.newId ? { newId: opts.newId } : {}) });
  return {
    db,
    journal,
    whitelist: new WhitelistStore(db),
    access: new AccessLog(db, journal),
    settings: new Settings(db),
    close: () => {
      if (db.open) db.close();
    },
  };
}

/**
 * The orchestrator's public face. sync/ and admin/ never import each other:
 * they meet here, through these methods and the typed events.
 */
import type { EventEmitter } from 'node:events';
import type { Direction } from '../types.js';
import type { JournalEvent } from '../store/types.js';
import type { GateMode } from './reasons.js';

export interface ReaderState {
  id: string;
  type: string;
  direction: Direction;
  connected: boolean;
}

export interface GateStatus {
  gate: string;
  site: string;
  mode: GateMode;
  startedAt: string;
  readers: ReaderState[];
  whitelistVersion: number;
  lastSeq: number;
  /** The gate's own Ed25519 public key for passes it signs (SPKI PEM). */
  passKey: string;
}

export interface GateEventMap {
  /** Every committed journal event, in seq order, after its commit. */
  event: [event: JournalEvent];
  /** Events that must reach people at once (blacklist hit, forced door, tamper, fire, mode change, reader fault). */
  alert: [event: JournalEvent];
  /** Mode changed (already journaled). */
  mode: [mode: GateMode];
  /** Reader connected/disconnected (already journaled). */
  reader: [state: ReaderState];
}

/** Who asked for an action: an admin account name, 'central', 'exit-button'. Never a visitor's name. */
export interface Actor {
  operator: string;
  source: 'admin' | 'central' | 'local';
}

export interface GateControl extends EventEmitter<GateEventMap> {
  status(): GateStatus;
  /** Unlock one passage by hand; journaled as manual_open before the relay moves. */
  manualOpen(direction: Direction, reason: string, actor: Actor): JournalEvent;
  /** Switch mode; journaled as mode_changed; persists across restarts. */
  setMode(mode: GateMode, reason: string, actor: Actor): JournalEvent;
  /** Append any other event (whitelist_applied, command_rejected, admin_login, visitor_registered, purge…). */
  record(event: { type: JournalEvent['type']; [k: string]: unknown }): JournalEvent;
}

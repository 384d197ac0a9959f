/** Row shapes of the whitelist and the journal, as the rest of the code sees them. */

export type PersonKind = 'staff' | 'visitor' | 'contractor' | 'security';
export type CredentialStatus = 'active' | 'suspended' | 'blacklisted';
export type Origin = 'central' | 'local';

/** DESIGN.md person shape (MQTT/JSON form). */
export interface Person {
  id: string;
  kind: PersonKind;
  name: string;
  hostId?: string;
  escort?: boolean;
  /** base64 JPEG on the wire; stored as a file/blob reference locally. */
  photo?: string;
}

/** DESIGN.md credential shape (MQTT/JSON form); times ISO 8601. */
export interface Credential {
  key: string;
  personId: string;
  status: CredentialStatus;
  validFrom?: string;
  validTo?: string;
  maxEntries?: number;
  scheduleId?: string;
}

export interface ScheduleWindow {
  /** 1..7, Monday = 1. */
  days: number[];
  /** "HH:MM" local time of the gate. */
  from: string;
  to: string;
}

export interface Schedule {
  id: string;
  windows: ScheduleWindow[];
  /** "YYYY-MM-DD" local dates on which the schedule grants nothing. */
  holidays: string[];
}

/**
 * What one indexed point lookup returns for a credential key: the credential
 * joined with its person and its local usage counter. Times are epoch ms.
 * No name: the hot path never needs it.
 */
export interface AccessRecord {
  key: string;
  personId: string;
  kind: PersonKind;
  hostId?: string;
  escort: boolean;
  status: CredentialStatus;
  validFrom?: number;
  validTo?: number;
  maxEntries?: number;
  entriesUsed: number;
  scheduleId?: string;
  origin: Origin;
  /** The person's last recorded direction (anti-passback), read in the same lookup. */
  lastDirection?: 'in' | 'out';
}

/** Every journal event type, in the order the admin page lists them (README, "Types and their fields"). */
export const EVENT_TYPES = [
  'access', 'passage', 'manual_open', 'mode_changed', 'door_forced', 'door_held',
  'tamper', 'fire_alarm', 'reader_status', 'visitor_registered', 'whitelist_applied',
  'command_rejected', 'admin_login', 'admin_action', 'startup', 'shutdown', 'clock_warning', 'purge',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The decision reasons of a granted access (controller/reasons.ts checks
 * they are reasons). A listed person's presence is the direction of their
 * last `access` event with one of these: see presenceSql.
 */
export const GRANTING_REASONS = ['GRANTED', 'EMERGENCY_OPEN'] as const;

/** GRANTING_REASONS as an SQL list, for `reason IN (…)`. */
export const GRANTING_SQL = GRANTING_REASONS.map((r) => `'${r}'`).join(', ');

/**
 * SQL for the direction of person `personExpr`'s last granted access, read
 * from the covering journal_person index (schema/core.ts, core-004) walked
 * backwards: no journal row is visited.
 */
export function presenceSql(personExpr: string): string {
  return `(SELECT j.direction FROM journal j WHERE j.person_id = ${personExpr} AND j.type = 'access' AND j.reason IN (${GRANTING_SQL}) ORDER BY j.seq DESC LIMIT 1)`;
}

/** Fields a caller gives Journal.append: the type and its own fields (no seq/id/ts/gate/hashes). */
export interface NewEvent {
  type: EventType;
  [field: string]: unknown;
}

/** A committed journal event, exactly as hashed and as sent to central. */
export interface JournalEvent {
  seq: number;
  id: string;
  /** ISO 8601 with milliseconds and the gate's UTC offset: 2026-11-23T10:49:46.123+08:00 */
  ts: string;
  gate: string;
  type: EventType;
  prevHash: string;
  hash: string;
  [field: string]: unknown;
}

/**
 * The access rule: one pure function from a normalized credential and the
 * context the orchestrator gathered (whitelist record, schedule, last
 * direction, last tap, mode, time) to a Decision. No I/O, no clock reads:
 * `ctx.nowMs` is the only time; local-time rules read Date's local getters on
 * a Date built from it (see schedule.ts).
 *
 * Precedence — the FIRST rule that applies gives the reason:
 *  1. DUPLICATE_TAP       same key at the same reader within duplicateTapMs of its last tap
 *  2. EMERGENCY_OPEN      mode emergency: everyone passes, even unknown; a blacklisted
 *                         credential still raises the alert
 *  3. UNKNOWN_CREDENTIAL  no whitelist record — except a pass with a valid signature,
 *                         which is known by that signature
 *  4. BLACKLISTED         alert
 *  5. SUSPENDED
 *  6. LOCKDOWN            mode lockdown: only a person of kind `security` passes
 *  7. NOT_YET_VALID / EXPIRED   record validFrom/validTo and pass nbf/exp, both apply
 *                         (from inclusive, to/exp exclusive)
 *  8. WRONG_GATE          pass for another site, or its `gates` list excludes this gate
 *  9. OUTSIDE_SCHEDULE    the record's schedule is closed now or today is a holiday;
 *                         a schedule id the store does not know is closed too (fail closed)
 * 10. ENTRIES_EXHAUSTED   direction in, and entries used ≥ record.maxEntries or pass.max
 *                         (only entries `in` are counted, so a visitor can always leave)
 * 11. ANTI_PASSBACK       anti-passback on and the last recorded direction equals this
 *                         one (in after in, out after out); no history passes
 * 12. ESCORT_REQUIRED     direction in, record.escort or pass.escort: not granted,
 *                         escortWait (leaving needs no escort); the escort's own
 *                         grant at that reader lets the visitor in (resolveEscort)
 * 13. GRANTED
 * ESCORT_TIMEOUT is not decided here: the orchestrator issues escortTimeout()
 * when resolveEscort() says the waiting visitor's window lapsed.
 */
import type { Direction } from '../types.js';
import type { AccessRecord, PersonKind, Schedule } from '../store/types.js';
import type { NormalizedOk } from './credential.js';
import type { GateMode, Reason } from './reasons.js';
import { isWithinSchedule } from './schedule.js';

export interface Decision {
  granted: boolean;
  reason: Reason;
  personId?: string;
  /** Raise an alert (blacklist hit), whatever `granted` says. */
  alert: boolean;
  /** The visitor waits at the reader for an escort (ESCORT_REQUIRED). */
  escortWait?: boolean;
}

export interface DecideContext {
  nowMs: number;
  gateId: string;
  site: string;
  mode: GateMode;
  direction: Direction;
  /** The whitelist record for the credential's key, if any. */
  record?: AccessRecord | undefined;
  /** The record's schedule, when it has one and the store knows it. */
  schedule?: Schedule | undefined;
  /** Last recorded passage direction of this person (anti-passback). */
  lastDirection?: Direction | undefined;
  antiPassback: boolean;
  /** Last tap of this key at this same reader (epoch ms). */
  lastTapMs?: number | undefined;
  duplicateTapMs: number;
  /** Entries used by a pass with no whitelist record (counted locally by key). */
  passEntriesUsed?: number | undefined;
}

export function decide(cred: NormalizedOk, ctx: DecideContext): Decision {
  const { record, nowMs } = ctx;
  const pass = cred.pass;
  const personId = record?.personId;
  const deny = (reason: Reason, extra: Partial<Decision> = {}): Decision =>
    withPerson({ granted: false, reason, alert: false, ...extra }, personId);

  if (ctx.lastTapMs !== undefined && ctx.duplicateTapMs > 0) {
    const since = nowMs - ctx.lastTapMs;
    if (since >= 0 && since < ctx.duplicateTapMs) return deny('DUPLICATE_TAP');
  }

  if (ctx.mode === 'emergency') {
    return withPerson({ granted: true, reason: 'EMERGENCY_OPEN', alert: record?.status === 'blacklisted' }, personId);
  }

  if (!record && !pass) return deny('UNKNOWN_CREDENTIAL');
  if (record?.status === 'blacklisted') return deny('BLACKLISTED', { alert: true });
  if (record?.status === 'suspended') return deny('SUSPENDED');

  if (ctx.mode === 'lockdown' && record?.kind !== 'security') return deny('LOCKDOWN');

  const validity = checkValidity(record, cred, nowMs);
  if (validity) return deny(validity);

  if (pass && (pass.site !== ctx.site || (pass.gates !== undefined && !pass.gates.includes(ctx.gateId)))) {
    return deny('WRONG_GATE');
  }

  if (record?.scheduleId !== undefined) {
    const schedule = ctx.schedule?.id === record.scheduleId ? ctx.schedule : undefined;
    if (!schedule || !isWithinSchedule(schedule, nowMs)) return deny('OUTSIDE_SCHEDULE');
  }

  if (ctx.direction === 'in' && entriesExhausted(record, cred, ctx.passEntriesUsed)) {
    return deny('ENTRIES_EXHAUSTED');
  }

  if (ctx.antiPassback && ctx.lastDirection !== undefined && ctx.lastDirection === ctx.direction) {
    return deny('ANTI_PASSBACK');
  }

  const needsEscort = record?.escort === true || pass?.escort === true;
  if (ctx.direction === 'in' && needsEscort) {
    return deny('ESCORT_REQUIRED', { escortWait: true });
  }

  return withPerson({ granted: true, reason: 'GRANTED', alert: false }, personId);
}

/** The decision journaled when a waiting visitor's escort window lapses. */
export function escortTimeout(personId?: string): Decision {
  return withPerson({ granted: false, reason: 'ESCORT_TIMEOUT', alert: false }, personId);
}

export interface PendingEscort {
  personId: string | undefined;
  key: string;
  atMs: number;
  readerId: string;
}

export interface EscortCandidate {
  kind: PersonKind;
  readerId: string;
  nowMs: number;
  /** The candidate's own decision; only a granted staff/security tap escorts. Default true. */
  granted?: boolean;
}

export type EscortResolution = 'grant-visitor' | 'expired' | 'none';

/**
 * The escort rule: a staff or security credential, itself granted, at the
 * reader where a visitor waits, within `windowMs` of the visitor's tap
 * (elapsed < windowMs), lets the visitor in. Past the window the wait has
 * 'expired' (→ ESCORT_TIMEOUT), whoever taps.
 */
export function resolveEscort(
  pending: PendingEscort | undefined,
  candidate: EscortCandidate,
  windowMs: number,
): EscortResolution {
  if (!pending) return 'none';
  const elapsed = candidate.nowMs - pending.atMs;
  if (elapsed < 0 || elapsed >= windowMs) return 'expired';
  if (candidate.granted === false) return 'none';
  if (candidate.kind !== 'staff' && candidate.kind !== 'security') return 'none';
  return candidate.readerId === pending.readerId ? 'grant-visitor' : 'none';
}

function checkValidity(record: AccessRecord | undefined, cred: NormalizedOk, nowMs: number): Reason | undefined {
  const pass = cred.pass;
  if (record?.validFrom !== undefined && nowMs < record.validFrom) return 'NOT_YET_VALID';
  if (pass && nowMs < pass.nbf * 1000) return 'NOT_YET_VALID';
  if (record?.validTo !== undefined && nowMs >= record.validTo) return 'EXPIRED';
  if (pass && nowMs >= pass.exp * 1000) return 'EXPIRED';
  return undefined;
}

function entriesExhausted(record: AccessRecord | undefined, cred: NormalizedOk, passUsed?: number): boolean {
  const used = record?.entriesUsed ?? passUsed ?? 0;
  if (record?.maxEntries !== undefined && used >= record.maxEntries) return true;
  return cred.pass?.max !== undefined && used >= cred.pass.max;
}

function withPerson(d: Decision, personId: string | undefined): Decision {
  if (personId !== undefined) d.personId = personId;
  return d;
}

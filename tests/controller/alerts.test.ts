/**
 * What is an alert (controller/alerts.ts), for every journal event type:
 * the one definition the gate's `alert` (sync's …/alerts) and the admin
 * page's alert flag and board both use.
 */
import { describe, expect, it } from 'vitest';
import { isAlert } from '../../src/controller/alerts.js';
import { EVENT_TYPES, type EventType } from '../../src/store/types.js';

type Row = [what: string, event: { type: EventType; [k: string]: unknown }, alert: boolean];

const TABLE: Row[] = [
  ['a grant', { type: 'access', granted: true, reason: 'GRANTED', personId: 'p1' }, false],
  ['a plain denial', { type: 'access', granted: false, reason: 'SUSPENDED', personId: 'p1' }, false],
  ['an unknown card', { type: 'access', granted: false, reason: 'UNKNOWN_CREDENTIAL' }, false],
  ['a blacklist hit', { type: 'access', granted: false, reason: 'BLACKLISTED', personId: 'p1' }, true],
  ['a blacklisted person let through in emergency mode', { type: 'access', granted: true, reason: 'EMERGENCY_OPEN', personId: 'p1', blacklisted: true }, true],
  ['anyone else let through in emergency mode', { type: 'access', granted: true, reason: 'EMERGENCY_OPEN', personId: 'p1' }, false],
  ['a duplicate tap of a blacklisted card (the first tap alerted)', { type: 'access', granted: false, reason: 'DUPLICATE_TAP', personId: 'p1' }, false],
  ['a passage', { type: 'passage', direction: 'in', passed: true }, false],
  ['a granted passage not taken', { type: 'passage', direction: 'in', passed: false }, false],
  ['a manual open', { type: 'manual_open', direction: 'in', reason: 'delivery', operator: 'g1', source: 'admin' }, false],
  ['a mode change', { type: 'mode_changed', from: 'normal', to: 'lockdown', reason: 'drill', operator: 'a', source: 'admin' }, true],
  ['a mode change back to normal', { type: 'mode_changed', from: 'emergency', to: 'normal', reason: 'over', operator: 'a', source: 'admin' }, true],
  ['a forced door', { type: 'door_forced' }, true],
  ['a door held open', { type: 'door_held', openMs: 30_000 }, false],
  ['a tamper switch opened', { type: 'tamper', active: true }, true],
  ['a tamper switch back to normal', { type: 'tamper', active: false }, false],
  ['a tamper event without a state (counts as active)', { type: 'tamper' }, true],
  ['the fire alarm going off', { type: 'fire_alarm', active: true }, true],
  ['the fire alarm back to normal', { type: 'fire_alarm', active: false }, false],
  ['a reader going offline', { type: 'reader_status', reader: 'entry', connected: false, detail: 'gone' }, true],
  ['a reader back online', { type: 'reader_status', reader: 'entry', connected: true, detail: 'ok' }, false],
  ['a visitor registered', { type: 'visitor_registered', personId: 'v1' }, false],
  ['a whitelist applied', { type: 'whitelist_applied', version: 3 }, false],
  ['a command rejected', { type: 'command_rejected', code: 'BAD_SIGNATURE' }, false],
  ['a failed admin login', { type: 'admin_login', ok: false, reason: 'BAD_PASSWORD' }, false],
  ['an admin action', { type: 'admin_action', action: 'account_created', operator: 'admin' }, false],
  ['a start', { type: 'startup' }, false],
  ['a stop', { type: 'shutdown', reason: 'SIGTERM' }, false],
  ['a clock warning', { type: 'clock_warning', behindMs: 60_000 }, false],
  ['a privacy purge', { type: 'purge', personId: 'p1', scope: 'person' }, false],
];

describe('isAlert', () => {
  it.each(TABLE)('%s → alert %s', (_what, ev, alert) => {
    expect(isAlert(ev)).toBe(alert);
  });

  it('the table covers every journal event type', () => {
    const covered = new Set(TABLE.map(([, ev]) => ev.type));
    expect(EVENT_TYPES.filter((t) => !covered.has(t))).toEqual([]);
  });

  it('a field that merely looks right is not enough: blacklisted must be true, reason must be the code', () => {
    expect(isAlert({ type: 'access', granted: true, reason: 'EMERGENCY_OPEN', blacklisted: 'true' })).toBe(false);
    expect(isAlert({ type: 'access', granted: false, reason: 'blacklisted' })).toBe(false);
    expect(isAlert({ type: 'reader_status', connected: 'false' })).toBe(false);
  });
});

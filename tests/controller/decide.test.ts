import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalize, type NormalizedOk } from '../../src/controller/credential.js';
import { decide, escortTimeout, resolveEscort, type DecideContext, type Decision } from '../../src/controller/decide.js';
import { signPass, type PassBody } from '../../src/credentials/pass.js';
import { REASONS, type Reason } from '../../src/controller/reasons.js';
import type { RawCredential } from '../../src/drivers/types.js';
import type { AccessRecord, Schedule } from '../../src/store/types.js';

/** 2026-11-23 (a Monday) 10:00 in Asia/Shanghai. */
const NOW = Date.UTC(2026, 10, 23, 2, 0);
const HOUR = 3_600_000;
const central = generateKeyPairSync('ed25519');
const deps = { idHashKey: Buffer.alloc(32, 7), passKeys: () => [central.publicKey] };

const seen = new Set<Reason>();
const note = (d: Decision): Decision => {
  seen.add(d.reason);
  return d;
};

const ctx = (over: Partial<DecideContext> = {}): DecideContext => ({
  nowMs: NOW,
  gateId: 'g1',
  site: 's1',
  mode: 'normal',
  direction: 'in',
  antiPassback: true,
  duplicateTapMs: 3_000,
  ...over,
});
const rec = (over: Partial<AccessRecord> = {}): AccessRecord => ({
  key: 'card:04A1B2C3',
  personId: 'P-1',
  kind: 'staff',
  escort: false,
  status: 'active',
  entriesUsed: 0,
  origin: 'central',
  ...over,
});
const card = (): NormalizedOk => ok({ kind: 'card', uid: '04A1B2C3' });
const pass = (over: Partial<PassBody> = {}): NormalizedOk =>
  ok({
    kind: 'pass',
    token: signPass({ pid: 'V-9', site: 's1', nbf: (NOW - HOUR) / 1000, exp: (NOW + HOUR) / 1000, ...over }, central.privateKey),
  });
function ok(raw: RawCredential): NormalizedOk {
  const n = normalize(raw, deps);
  if (!n.ok) throw new Error(`fixture did not normalize: ${n.reason}`);
  return n;
}
const run = (cred: NormalizedOk, c: DecideContext) => note(decide(cred, c));
const officeHours: Schedule = {
  id: 'office',
  windows: [{ days: [1, 2, 3, 4, 5], from: '08:00', to: '18:00' }],
  holidays: ['2026-12-25'],
};

describe('decide()', () => {
  const savedTz = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = 'Asia/Shanghai';
  });
  afterAll(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  it('GRANTED: an active staff card', () => {
    expect(run(card(), ctx({ record: rec() }))).toEqual({ granted: true, reason: 'GRANTED', alert: false, personId: 'P-1' });
  });

  it('INVALID_FORMAT and BAD_SIGNATURE come from normalize, before any lookup', () => {
    const bad = normalize({ kind: 'id', number: '110105194912310021' }, deps);
    const forged = normalize(
      { kind: 'pass', token: signPass({ pid: 'X', site: 's1', nbf: 1, exp: 2 }, generateKeyPairSync('ed25519').privateKey) },
      deps,
    );
    expect(bad).toMatchObject({ ok: false, reason: 'INVALID_FORMAT' });
    expect(forged).toMatchObject({ ok: false, reason: 'BAD_SIGNATURE' });
    if (!bad.ok) seen.add(bad.reason);
    if (!forged.ok) seen.add(forged.reason);
  });

  describe('DUPLICATE_TAP', () => {
    it('the same key at the same reader inside duplicateTapMs', () => {
      expect(run(card(), ctx({ record: rec(), lastTapMs: NOW - 2_999 }))).toMatchObject({ granted: false, reason: 'DUPLICATE_TAP' });
      expect(run(card(), ctx({ record: rec(), lastTapMs: NOW - 3_000 })).reason).toBe('GRANTED');
    });
    it('outranks everything, even emergency and blacklist', () => {
      const d = run(card(), ctx({ mode: 'emergency', record: rec({ status: 'blacklisted' }), lastTapMs: NOW - 10 }));
      expect(d).toMatchObject({ granted: false, reason: 'DUPLICATE_TAP', alert: false });
    });
    it('duplicateTapMs 0 turns it off', () => {
      expect(run(card(), ctx({ record: rec(), lastTapMs: NOW, duplicateTapMs: 0 })).reason).toBe('GRANTED');
    });
  });

  describe('EMERGENCY_OPEN', () => {
    it('everyone passes, even unknown, expired or suspended', () => {
      expect(run(card(), ctx({ mode: 'emergency' }))).toEqual({ granted: true, reason: 'EMERGENCY_OPEN', alert: false });
      expect(run(card(), ctx({ mode: 'emergency', record: rec({ status: 'suspended', validTo: NOW - 1 }) }))).toEqual({
        granted: true, reason: 'EMERGENCY_OPEN', alert: false, personId: 'P-1',
      });
    });
    it('a blacklisted credential still raises the alert', () => {
      expect(run(card(), ctx({ mode: 'emergency', record: rec({ status: 'blacklisted' }) }))).toMatchObject({
        granted: true, reason: 'EMERGENCY_OPEN', alert: true,
      });
    });
  });

  describe('UNKNOWN_CREDENTIAL', () => {
    it('a card or ID with no whitelist record', () => {
      expect(run(card(), ctx())).toEqual({ granted: false, reason: 'UNKNOWN_CREDENTIAL', alert: false });
      const id = ok({ kind: 'id', number: '11010519491231002X' });
      expect(run(id, ctx()).reason).toBe('UNKNOWN_CREDENTIAL');
    });
    it('a validly signed pass needs no record: it is known by its signature', () => {
      expect(run(pass(), ctx())).toEqual({ granted: true, reason: 'GRANTED', alert: false });
    });
  });

  it('BLACKLISTED: denied with an alert, ahead of suspension and lockdown', () => {
    expect(run(card(), ctx({ mode: 'lockdown', record: rec({ status: 'blacklisted', validTo: NOW - 1 }) }))).toEqual({
      granted: false, reason: 'BLACKLISTED', alert: true, personId: 'P-1',
    });
  });

  it('SUSPENDED: e.g. a registration waiting for security review', () => {
    expect(run(card(), ctx({ record: rec({ status: 'suspended', kind: 'visitor' }) }))).toEqual({
      granted: false, reason: 'SUSPENDED', alert: false, personId: 'P-1',
    });
  });

  describe('LOCKDOWN', () => {
    it('only security staff pass', () => {
      expect(run(card(), ctx({ mode: 'lockdown', record: rec({ kind: 'staff' }) })).reason).toBe('LOCKDOWN');
      expect(run(card(), ctx({ mode: 'lockdown', record: rec({ kind: 'security' }) })).reason).toBe('GRANTED');
    });
    it('a pass without a record has no kind, so it is locked out', () => {
      expect(run(pass(), ctx({ mode: 'lockdown' })).reason).toBe('LOCKDOWN');
    });
    it('comes before validity: a lockdown says why first', () => {
      expect(run(card(), ctx({ mode: 'lockdown', record: rec({ validTo: NOW - 1 }) })).reason).toBe('LOCKDOWN');
    });
  });

  describe('NOT_YET_VALID / EXPIRED', () => {
    it('record validity window: from inclusive, to exclusive', () => {
      expect(run(card(), ctx({ record: rec({ validFrom: NOW + 1 }) })).reason).toBe('NOT_YET_VALID');
      expect(run(card(), ctx({ record: rec({ validFrom: NOW }) })).reason).toBe('GRANTED');
      expect(run(card(), ctx({ record: rec({ validTo: NOW }) })).reason).toBe('EXPIRED');
      expect(run(card(), ctx({ record: rec({ validTo: NOW + 1 }) })).reason).toBe('GRANTED');
    });
    it('pass nbf/exp in epoch seconds', () => {
      expect(run(pass({ nbf: NOW / 1000 + 1, exp: NOW / 1000 + 100 }), ctx()).reason).toBe('NOT_YET_VALID');
      expect(run(pass({ nbf: NOW / 1000 - 100, exp: NOW / 1000 }), ctx()).reason).toBe('EXPIRED');
    });
    it('both apply when a pass also has a record', () => {
      const p = pass();
      expect(run(p, ctx({ record: rec({ key: p.key, validTo: NOW - 1 }) })).reason).toBe('EXPIRED');
      const expiredPass = pass({ nbf: NOW / 1000 - 100, exp: NOW / 1000 - 1 });
      expect(run(expiredPass, ctx({ record: rec({ key: expiredPass.key }) })).reason).toBe('EXPIRED');
    });
  });

  describe('WRONG_GATE', () => {
    it('a pass for another site', () => {
      expect(run(pass({ site: 's2' }), ctx())).toEqual({ granted: false, reason: 'WRONG_GATE', alert: false });
    });
    it('a pass whose gates list excludes this gate; listed or no list passes', () => {
      expect(run(pass({ gates: ['g2', 'g3'] }), ctx()).reason).toBe('WRONG_GATE');
      expect(run(pass({ gates: ['g2', 'g1'] }), ctx()).reason).toBe('GRANTED');
    });
    it('validity is reported before the gate', () => {
      expect(run(pass({ site: 's2', nbf: NOW / 1000 - 100, exp: NOW / 1000 - 1 }), ctx()).reason).toBe('EXPIRED');
    });
  });

  describe('OUTSIDE_SCHEDULE (local time of the gate)', () => {
    const withSchedule = rec({ scheduleId: 'office' });
    it('inside and outside the weekly window', () => {
      expect(run(card(), ctx({ record: withSchedule, schedule: officeHours })).reason).toBe('GRANTED');
      const evening = Date.UTC(2026, 10, 23, 10, 0); // 18:00 in Shanghai
      expect(run(card(), ctx({ nowMs: evening, record: withSchedule, schedule: officeHours })).reason).toBe('OUTSIDE_SCHEDULE');
      const saturday = Date.UTC(2026, 10, 28, 2, 0);
      expect(run(card(), ctx({ nowMs: saturday, record: withSchedule, schedule: officeHours })).reason).toBe('OUTSIDE_SCHEDULE');
    });
    it('a holiday denies inside the window', () => {
      const christmasMorning = Date.UTC(2026, 11, 25, 2, 0); // Friday 10:00
      expect(run(card(), ctx({ nowMs: christmasMorning, record: withSchedule, schedule: officeHours }))).toEqual({
        granted: false, reason: 'OUTSIDE_SCHEDULE', alert: false, personId: 'P-1',
      });
    });
    it('a night window crossing midnight grants in the small hours', () => {
      const night: Schedule = { id: 'night', windows: [{ days: [1], from: '22:00', to: '06:00' }], holidays: [] };
      const r = rec({ scheduleId: 'night' });
      const tuesday3am = Date.UTC(2026, 10, 23, 19, 0);
      expect(run(card(), ctx({ nowMs: tuesday3am, record: r, schedule: night })).reason).toBe('GRANTED');
      expect(run(card(), ctx({ record: r, schedule: night })).reason).toBe('OUTSIDE_SCHEDULE');
    });
    it('a schedule id the store does not know fails closed', () => {
      expect(run(card(), ctx({ record: withSchedule })).reason).toBe('OUTSIDE_SCHEDULE');
      expect(run(card(), ctx({ record: withSchedule, schedule: { ...officeHours, id: 'other' } })).reason).toBe('OUTSIDE_SCHEDULE');
    });
  });

  describe('ENTRIES_EXHAUSTED', () => {
    it('record.maxEntries against entries used', () => {
      expect(run(card(), ctx({ record: rec({ maxEntries: 2, entriesUsed: 1 }) })).reason).toBe('GRANTED');
      expect(run(card(), ctx({ record: rec({ maxEntries: 2, entriesUsed: 2 }) }))).toMatchObject({
        granted: false, reason: 'ENTRIES_EXHAUSTED',
      });
    });
    it('pass.max against locally counted entries', () => {
      expect(run(pass({ max: 1 }), ctx({ passEntriesUsed: 0 })).reason).toBe('GRANTED');
      expect(run(pass({ max: 1 }), ctx({ passEntriesUsed: 1 })).reason).toBe('ENTRIES_EXHAUSTED');
      const p = pass({ max: 3 });
      expect(run(p, ctx({ record: rec({ key: p.key, entriesUsed: 3 }) })).reason).toBe('ENTRIES_EXHAUSTED');
    });
    it('only entries count: a visitor who used them all can still leave', () => {
      expect(run(card(), ctx({ direction: 'out', record: rec({ maxEntries: 1, entriesUsed: 1 }) })).reason).toBe('GRANTED');
    });
  });

  describe('ANTI_PASSBACK', () => {
    it('in after in, out after out', () => {
      expect(run(card(), ctx({ record: rec(), lastDirection: 'in' })).reason).toBe('ANTI_PASSBACK');
      expect(run(card(), ctx({ direction: 'out', record: rec(), lastDirection: 'out' })).reason).toBe('ANTI_PASSBACK');
    });
    it('alternating directions, or no history, pass', () => {
      expect(run(card(), ctx({ record: rec(), lastDirection: 'out' })).reason).toBe('GRANTED');
      expect(run(card(), ctx({ direction: 'out', record: rec(), lastDirection: 'in' })).reason).toBe('GRANTED');
      expect(run(card(), ctx({ direction: 'out', record: rec() })).reason).toBe('GRANTED');
    });
    it('off in the configuration, it never denies', () => {
      expect(run(card(), ctx({ antiPassback: false, record: rec(), lastDirection: 'in' })).reason).toBe('GRANTED');
    });
    it('exhausted entries are reported before anti-passback', () => {
      expect(run(card(), ctx({ record: rec({ maxEntries: 1, entriesUsed: 1 }), lastDirection: 'in' })).reason).toBe('ENTRIES_EXHAUSTED');
    });
  });

  describe('ESCORT_REQUIRED / ESCORT_TIMEOUT', () => {
    const visitor = rec({ personId: 'V-1', kind: 'visitor', escort: true });
    it('an escorted visitor waits: not granted, escortWait', () => {
      expect(run(card(), ctx({ record: visitor }))).toEqual({
        granted: false, reason: 'ESCORT_REQUIRED', alert: false, personId: 'V-1', escortWait: true,
      });
      expect(run(pass({ escort: true }), ctx()).reason).toBe('ESCORT_REQUIRED');
    });
    it('leaving needs no escort (coming in, the escort\'s grant lets the visitor in: resolveEscort below)', () => {
      expect(run(card(), ctx({ direction: 'out', record: visitor })).reason).toBe('GRANTED');
    });
    it('anti-passback is reported before the escort wait', () => {
      expect(run(card(), ctx({ record: visitor, lastDirection: 'in' })).reason).toBe('ANTI_PASSBACK');
    });

    const pending = { personId: 'V-1', key: 'card:04A1B2C3', atMs: NOW, readerId: 'entry' };
    it('a granted staff or security tap at the same reader within the window grants the visitor', () => {
      expect(resolveEscort(pending, { kind: 'staff', readerId: 'entry', nowMs: NOW + 29_999 }, 30_000)).toBe('grant-visitor');
      expect(resolveEscort(pending, { kind: 'security', readerId: 'entry', nowMs: NOW + 1 }, 30_000)).toBe('grant-visitor');
    });
    it('another reader, another kind or a denied tap does not', () => {
      expect(resolveEscort(pending, { kind: 'staff', readerId: 'exit', nowMs: NOW + 1 }, 30_000)).toBe('none');
      expect(resolveEscort(pending, { kind: 'visitor', readerId: 'entry', nowMs: NOW + 1 }, 30_000)).toBe('none');
      expect(resolveEscort(pending, { kind: 'contractor', readerId: 'entry', nowMs: NOW + 1 }, 30_000)).toBe('none');
      expect(resolveEscort(pending, { kind: 'staff', readerId: 'entry', nowMs: NOW + 1, granted: false }, 30_000)).toBe('none');
      expect(resolveEscort(undefined, { kind: 'staff', readerId: 'entry', nowMs: NOW }, 30_000)).toBe('none');
    });
    it('past the window the wait has expired, and the visitor gets ESCORT_TIMEOUT', () => {
      expect(resolveEscort(pending, { kind: 'staff', readerId: 'entry', nowMs: NOW + 30_000 }, 30_000)).toBe('expired');
      expect(note(escortTimeout('V-1'))).toEqual({ granted: false, reason: 'ESCORT_TIMEOUT', alert: false, personId: 'V-1' });
    });
  });

  it('is pure: same input, same output, and the inputs are not modified', () => {
    const record = rec({ maxEntries: 5, entriesUsed: 1, scheduleId: 'office' });
    const c = ctx({ record, schedule: officeHours, lastDirection: 'out' });
    const before = JSON.stringify(c);
    const a = decide(card(), c);
    const b = decide(card(), c);
    expect(a).toEqual(b);
    expect(JSON.stringify(c)).toBe(before);
  });

  // Last in the file (tests run in order): every stable reason code of reasons.ts was produced above.
  it('covers every reason code', () => {
    expect([...seen].sort()).toEqual([...REASONS].sort());
  });
});

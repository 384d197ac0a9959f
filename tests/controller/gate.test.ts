/**
 * The orchestrator end to end over a real store: what the journal holds and
 * what the relays and LEDs did, in order, for each kind of tap and input.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signPass } from '../../src/credentials/pass.js';
import { idKey } from '../../src/credentials/resident-id.js';
import type { JournalEvent } from '../../src/store/types.js';
import { cleanup, ID_HASH_KEY, makeGate, type Harness } from './gate-harness.js';

const HOUR = 3_600_000;
const VALID_ID = '11010519491231002X';

function seed(h: Harness): void {
  const iso = (ms: number) => new Date(ms).toISOString();
  h.store.whitelist.upsert(
    {
      people: [
        { id: 'p-staff', kind: 'staff', name: 'Zhang San' },
        { id: 'p-sec', kind: 'security', name: 'Guard Li' },
        { id: 'p-vis', kind: 'visitor', name: 'Visitor Wang', hostId: 'p-staff' },
        { id: 'p-esc', kind: 'visitor', name: 'Escorted Zhao', hostId: 'p-staff', escort: true },
        { id: 'p-black', kind: 'contractor', name: 'Banned Qian' },
      ],
      credentials: [
        { key: 'card:04A1B2C3', personId: 'p-staff', status: 'active' },
        { key: 'card:0A0B0C0D', personId: 'p-sec', status: 'active' },
        { key: 'card:11223344', personId: 'p-vis', status: 'active', validFrom: iso(h.now.ms - HOUR), validTo: iso(h.now.ms + HOUR) },
        { key: idKey(VALID_ID, ID_HASH_KEY), personId: 'p-vis', status: 'active' },
        { key: 'card:55667788', personId: 'p-esc', status: 'active' },
        { key: 'card:DEADBEEF', personId: 'p-black', status: 'blacklisted' },
      ],
    },
    'central',
  );
}

const events = (h: Harness): JournalEvent[] => h.store.journal.range(1, Number.MAX_SAFE_INTEGER, 10_000);
const last = (h: Harness): JournalEvent => {
  const ev = h.store.journal.get(h.store.journal.lastSeq());
  if (!ev) throw new Error('journal empty');
  return ev;
};

describe('Gate orchestrator', () => {
  let h: Harness;
  let clock: sinon.SinonFakeTimers;

  beforeEach(async () => {
    clock = sinon.useFakeTimers({ now: Date.parse('2026-11-23T10:00:00+08:00'), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    h = await makeGate();
    seed(h);
  });
  afterEach(async () => {
    await h.close();
    clock.restore();
    cleanup(h);
  });

  it('journals a startup event first', () => {
    expect(events(h)[0]).toMatchObject({ seq: 1, type: 'startup', version: 'test', mode: 'normal' });
  });

  it('grants a staff card: the access event is committed before the relay moves', () => {
    let seqWhenRelayMoved = -1;
    const original = h.outputs.entry.set.bind(h.outputs.entry);
    h.outputs.entry.set = (active: boolean) => {
      if (active && seqWhenRelayMoved < 0) seqWhenRelayMoved = h.store.journal.lastSeq();
      original(active);
    };
    h.readers.entry.tap({ kind: 'card', uid: '04a1b2c3' }, h.now.ms);
    const ev = last(h);
    expect(ev).toMatchObject({ type: 'access', reader: 'entry', direction: 'in', granted: true, reason: 'GRANTED', personId: 'p-staff', credential: 'card:****B2C3' });
    expect(seqWhenRelayMoved).toBe(ev.seq);
    expect(h.outputs.entry.get()).toBe(true);
    expect(h.outputs.green.get()).toBe(true);
    clock.tick(500);
    expect(h.outputs.entry.get()).toBe(false);
  });

  it('records the passage when the rotation sensor fires, and a grant nobody used as not passed', () => {
    h.readers.entry.tap({ kind: 'card', uid: '04A1B2C3' }, h.now.ms);
    const grant = last(h);
    h.inputs.passage.drive(true, h.now.ms + 1200);
    expect(last(h)).toMatchObject({ type: 'passage', direction: 'in', passed: true, grantRef: grant.id });
    h.inputs.passage.drive(false);
    h.now.ms += 10_000;
    h.readers.exit.tap({ kind: 'card', uid: '04A1B2C3' }, h.now.ms);
    const exitGrant = last(h);
    expect(exitGrant).toMatchObject({ reason: 'GRANTED', direction: 'out' });
    expect(h.outputs.exit.get()).toBe(true);
    clock.tick(8_000);
    expect(last(h)).toMatchObject({ type: 'passage', direction: 'out', passed: false, grantRef: exitGrant.id });
  });

  it('denies an unknown card with red and no relay', () => {
    h.readers.entry.tap({ kind: 'card', uid: '99999999' }, h.now.ms);
    expect(last(h)).toMatchObject({ granted: false, reason: 'UNKNOWN_CREDENTIAL', credential: 'card:****9999' });
    expect(h.outputs.entry.writes.some((w) => w.active)).toBe(false);
    expect(h.outputs.red.get()).toBe(true);
  });

  it('raises an alert for a blacklisted card', () => {
    const alerts: JournalEvent[] = [];
    h.gate.on('alert', (ev) => alerts.push(ev));
    h.readers.entry.tap({ kind: 'card', uid: 'DEADBEEF' }, h.now.ms);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ reason: 'BLACKLISTED', granted: false, personId: 'p-black' });
    expect(h.outputs.entry.writes.some((w) => w.active)).toBe(false);
  });

  it('suppresses a second tap of the same card at the same reader', () => {
    h.readers.entry.tap({ kind: 'card', uid: '04A1B2C3' }, h.now.ms);
    h.readers.entry.tap({ kind: 'card', uid: '04A1B2C3' }, h.now.ms + 1000);
    expect(last(h)).toMatchObject({ granted: false, reason: 'DUPLICATE_TAP' });
  });

  it('enforces anti-passback across the entry and exit readers', () => {
    h.readers.entry.tap({ kind: 'card', uid: '04A1B2C3' }, h.now.ms);
    h.now.ms += 60_000;
    h.readers.entry.tap({ kind: 'card', uid: '04A1B2C3' }, h.now.ms);
    expect(last(h)).toMatchObject({ reason: 'ANTI_PASSBACK', granted: false });
    h.readers.exit.tap({ kind: 'card', uid: '04A1B2C3' }, h.now.ms + 1);
    expect(last(h)).toMatchObject({ reason: 'GRANTED', direction: 'out' });
    expect(h.store.access.inside().map((p) => p.personId)).not.toContain('p-staff');
  });

  it('lets an escorted visitor in when staff taps at the same reader within the window', () => {
    h.readers.entry.tap({ kind: 'card', uid: '55667788' }, h.now.ms);
    expect(last(h)).toMatchObject({ reason: 'ESCORT_REQUIRED', granted: false, personId: 'p-esc' });
    expect(h.outputs.entry.writes.some((w) => w.active)).toBe(false);
    h.now.ms += 5_000;
    clock.tick(5_000);
    h.readers.entry.tap({ kind: 'card', uid: '04A1B2C3' }, h.now.ms);
    const [visitor, staff] = events(h).slice(-2);
    expect(visitor).toMatchObject({ personId: 'p-esc', granted: true, reason: 'GRANTED', escortedBy: 'p-staff' });
    expect(staff).toMatchObject({ personId: 'p-staff', granted: true, reason: 'GRANTED' });
    expect(h.gate.turnstile.pending()[0]).toMatchObject({ direction: 'in', remaining: 2 });
  });

  it('records ESCORT_TIMEOUT when nobody escorts the visitor in time', () => {
    h.readers.entry.tap({ kind: 'card', uid: '55667788' }, h.now.ms);
    h.now.ms += 30_000;
    clock.tick(30_000);
    expect(last(h)).toMatchObject({ reason: 'ESCORT_TIMEOUT', granted: false, personId: 'p-esc' });
  });

  it('denies a resident ID with a bad check digit as INVALID_FORMAT and never stores the clear number', () => {
    const bad = '110105194912310021';
    h.readers.entry.tap({ kind: 'id', number: bad }, h.now.ms);
    expect(last(h)).toMatchObject({ reason: 'INVALID_FORMAT', granted: false, credential: '1101**********0021' });
    h.now.ms += 60_000;
    h.readers.entry.tap({ kind: 'id', number: VALID_ID.toLowerCase() }, h.now.ms);
    expect(last(h)).toMatchObject({ reason: 'GRANTED', personId: 'p-vis', credential: '1101**********002X' });
    const db = readFileSync(join(h.dir, 'gate.db')).toString('latin1') + readFileSync(join(h.dir, 'gate.db-wal')).toString('latin1');
    expect(db).not.toContain(bad);
    expect(db).not.toContain(VALID_ID);
  });

  it('accepts a QR pass signed with the gate key and rejects an altered one', () => {
    const s = Math.floor(h.now.ms / 1000);
    const token = signPass({ pid: 'v-77', site: 's1', nbf: s - 60, exp: s + 3600, max: 1 }, h.ownKey);
    h.readers.entry.tap({ kind: 'pass', token }, h.now.ms);
    expect(last(h)).toMatchObject({ reason: 'GRANTED', credential: 'pass:v-77' });
    const [, body, sig] = token.split('.');
    const forged = Buffer.from(body!, 'base64url').toString().replace('"max":1', '"max":9');
    h.now.ms += 60_000;
    h.readers.exit.tap({ kind: 'pass', token: `GP1.${Buffer.from(forged).toString('base64url')}.${sig}` }, h.now.ms);
    expect(last(h)).toMatchObject({ reason: 'BAD_SIGNATURE', granted: false });
  });

  it('an unlisted QR pass keeps its own presence: escorted in, then anti-passback and exit by its key', () => {
    const s = Math.floor(h.now.ms / 1000);
    const token = signPass({ pid: 'v-88', site: 's1', nbf: s - 60, exp: s + 3600, escort: true }, h.ownKey);
    h.readers.entry.tap({ kind: 'pass', token }, h.now.ms);
    expect(last(h)).toMatchObject({ reason: 'ESCORT_REQUIRED', granted: false, credential: 'pass:v-88' });
    h.now.ms += 5_000;
    clock.tick(5_000);
    h.readers.entry.tap({ kind: 'card', uid: '04A1B2C3' }, h.now.ms);
    const [visitor] = events(h).slice(-2);
    expect(visitor).toMatchObject({ credential: 'pass:v-88', granted: true, reason: 'GRANTED', escortedBy: 'p-staff' });
    expect(visitor).not.toHaveProperty('personId'); // a pass has no whitelist record: no person id, as for its other events
    expect(h.store.access.inside().map((p) => p.personId)).toEqual(['p-staff', 'pass:v-88']);
    h.now.ms += 60_000;
    h.readers.entry.tap({ kind: 'pass', token }, h.now.ms);
    expect(last(h)).toMatchObject({ reason: 'ANTI_PASSBACK', granted: false });
    h.readers.exit.tap({ kind: 'pass', token }, h.now.ms + 1);
    expect(last(h)).toMatchObject({ reason: 'GRANTED', direction: 'out' });
    expect(h.store.access.inside().map((p) => p.personId)).toEqual(['p-staff']);
  });

  it('never writes a person name into the journal', () => {
    for (const uid of ['04A1B2C3', '11223344', 'DEADBEEF', '55667788']) {
      h.now.ms += 10_000;
      h.readers.entry.tap({ kind: 'card', uid }, h.now.ms);
    }
    const text = JSON.stringify(events(h));
    for (const name of ['Zhang San', 'Visitor Wang', 'Banned Qian', 'Escorted Zhao']) expect(text).not.toContain(name);
  });

  it('fire alarm: emergency mode frees every passage, raises alerts, and persists across a restart', async () => {
    const alerts: string[] = [];
    h.gate.on('alert', (ev) => alerts.push(ev.type));
    h.inputs.fireAlarm.drive(true, h.now.ms);
    expect(alerts).toEqual(['fire_alarm', 'mode_changed']);
    expect(h.gate.status().mode).toBe('emergency');
    expect(h.outputs.entry.get()).toBe(true);
    expect(h.outputs.exit.get()).toBe(true);
    h.readers.entry.tap({ kind: 'card', uid: '99999999' }, h.now.ms);
    expect(last(h)).toMatchObject({ granted: true, reason: 'EMERGENCY_OPEN' });
    h = await h.reopen();
    expect(h.gate.status().mode).toBe('emergency');
    expect(h.outputs.entry.get()).toBe(true);
  });

  it('a blacklisted card let through in emergency mode is still an alert; a fire alarm or tamper going back to normal is not a new one', () => {
    const alerts: JournalEvent[] = [];
    h.gate.on('alert', (ev) => alerts.push(ev));
    h.inputs.fireAlarm.drive(true, h.now.ms);
    h.readers.entry.tap({ kind: 'card', uid: 'DEADBEEF' }, h.now.ms);
    expect(last(h)).toMatchObject({ granted: true, reason: 'EMERGENCY_OPEN', personId: 'p-black', blacklisted: true });
    h.readers.entry.tap({ kind: 'card', uid: '04A1B2C3' }, h.now.ms);
    expect(last(h)).toMatchObject({ granted: true, reason: 'EMERGENCY_OPEN', personId: 'p-staff' });
    expect(last(h)).not.toHaveProperty('blacklisted');
    h.inputs.fireAlarm.drive(false, h.now.ms);
    expect(last(h)).toMatchObject({ type: 'fire_alarm', active: false });
    h.inputs.tamper.drive(true, h.now.ms);
    h.inputs.tamper.drive(false, h.now.ms);
    expect(last(h)).toMatchObject({ type: 'tamper', active: false });
    expect(alerts.map((e) => e.type === 'access' ? `access:${String(e.personId)}` : e.type))
      .toEqual(['fire_alarm', 'mode_changed', 'access:p-black', 'tamper']);
  });

  it('lockdown lets only security through', () => {
    h.gate.setMode('lockdown', 'intruder drill', { operator: 'admin', source: 'admin' });
    h.readers.entry.tap({ kind: 'card', uid: '04A1B2C3' }, h.now.ms);
    expect(last(h)).toMatchObject({ reason: 'LOCKDOWN', granted: false });
    h.readers.entry.tap({ kind: 'card', uid: '0A0B0C0D' }, h.now.ms);
    expect(last(h)).toMatchObject({ reason: 'GRANTED', personId: 'p-sec' });
  });

  it('manual open needs a reason and is journaled with the operator before the relay moves', () => {
    expect(() => h.gate.manualOpen('in', '  ', { operator: 'guard1', source: 'admin' })).toThrow(/reason is required/);
    expect(h.outputs.entry.writes.some((w) => w.active)).toBe(false);
    const ev = h.gate.manualOpen('in', 'delivery', { operator: 'guard1', source: 'admin' });
    expect(ev).toMatchObject({ type: 'manual_open', direction: 'in', reason: 'delivery', operator: 'guard1' });
    expect(h.outputs.entry.get()).toBe(true);
  });

  it('rejects an unknown mode and changes nothing', () => {
    const before = h.store.journal.lastSeq();
    expect(() => h.gate.setMode('party' as never, 'x', { operator: 'a', source: 'admin' })).toThrow(/unknown mode/);
    expect(h.store.journal.lastSeq()).toBe(before);
  });

  it('door opened with no grant is door_forced (an alert); held open is door_held', () => {
    const alerts: string[] = [];
    h.gate.on('alert', (ev) => alerts.push(ev.type));
    h.inputs.door.drive(true, h.now.ms);
    expect(alerts).toEqual(['door_forced']);
    h.now.ms += 30_000;
    clock.tick(30_000);
    expect(last(h)).toMatchObject({ type: 'door_held' });
  });

  it('journals reader connection changes and tamper', () => {
    h.readers.exit.connected = false;
    h.readers.exit.emit('status', false, 'unplugged');
    expect(last(h)).toMatchObject({ type: 'reader_status', reader: 'exit', connected: false });
    expect(h.gate.status().readers.find((r) => r.id === 'exit')?.connected).toBe(false);
    h.inputs.tamper.drive(true, h.now.ms);
    expect(last(h)).toMatchObject({ type: 'tamper', active: true });
  });

  it('exit button opens the exit direction as a manual open', () => {
    h.inputs.exitButton.drive(true, h.now.ms);
    expect(last(h)).toMatchObject({ type: 'manual_open', direction: 'out', operator: 'exit-button' });
    expect(h.outputs.exit.get()).toBe(true);
  });

  it('warns when the clock at start is behind the last journal event', async () => {
    h.readers.entry.tap({ kind: 'card', uid: '04A1B2C3' }, h.now.ms);
    await h.gate.stop(); // shutdown journaled with the right time
    const lastTs = last(h).ts;
    h.now.ms -= 3_600_000; // the RTC-less Pi boots with an old clock
    h = await h.reopen();
    const warning = events(h).find((e) => e.type === 'clock_warning');
    expect(warning).toMatchObject({ lastEventTs: lastTs, behindMs: 3_600_000 });
  });

  it('journals shutdown on stop and the chain is intact', async () => {
    h.readers.entry.tap({ kind: 'card', uid: '04A1B2C3' }, h.now.ms);
    await h.gate.stop();
    expect(last(h)).toMatchObject({ type: 'shutdown' });
    const { verifyChain } = await import('../../src/store/journal.js');
    expect(verifyChain(h.store.db)).toMatchObject({ ok: true });
    h = await h.reopen();
  });
});

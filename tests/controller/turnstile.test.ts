import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import sinon from 'sinon';
import { Turnstile, type TurnstileDeps } from '../../src/controller/turnstile.js';
import { recordingOutputs, type OutputWrite } from './fakes/recording-output.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);

describe('Turnstile', () => {
  let clock: sinon.SinonFakeTimers;
  let log: OutputWrite[];
  let relays: ReturnType<typeof recordingOutputs<'entry' | 'exit'>>['outputs'];
  let events: Array<[string, unknown]>;

  const build = (over: Partial<TurnstileDeps> = {}) => {
    const t = new Turnstile({
      relays: { in: relays.entry, out: relays.exit },
      pulseMs: { in: 500, out: 300 },
      passageTimeoutMs: 8_000,
      doorHeldMs: 30_000,
      clock: () => Date.now(),
      ...over,
    });
    for (const name of ['passage', 'notPassed', 'doorForced', 'doorHeld'] as const) {
      t.on(name, (info: unknown) => events.push([name, info]));
    }
    return t;
  };
  const writes = () => log.map((w) => `${w.name}=${w.active ? 1 : 0}@${w.atMs - T0}`);

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: T0 });
    const r = recordingOutputs(['entry', 'exit'] as const);
    relays = r.outputs;
    log = r.log;
    events = [];
  });
  afterEach(() => clock.restore());

  it('start() drives every relay inactive before anything else', async () => {
    relays.entry.set(true); // left energized by a crashed previous run
    log.length = 0;
    const t = build();
    await t.start();
    expect(writes()).toEqual(['entry=0@0', 'exit=0@0']);
    expect(t.state).toBe('idle');
  });

  it('idle → unlocked → passed: pulses the direction relay for pulseMs and reports the passage', async () => {
    const t = build();
    await t.start();
    log.length = 0;
    t.unlock('in', { grantRef: 'seq-7' });
    expect(t.state).toBe('unlocked');
    expect(relays.entry.get()).toBe(true);
    clock.tick(499);
    expect(relays.entry.get()).toBe(true);
    clock.tick(1);
    expect(relays.entry.get()).toBe(false);
    clock.tick(1_500);
    t.passageSensed(Date.now());
    expect(events).toEqual([['passage', { direction: 'in', grantRef: 'seq-7', atMs: T0 + 2_000 }]]);
    expect(t.state).toBe('idle');
    expect(writes()).toEqual(['entry=1@0', 'entry=0@500']);
    clock.tick(60_000);
    expect(events).toHaveLength(1); // the passage cancelled the timeout
  });

  it('uses the exit relay and its own pulseMs for direction out', async () => {
    const t = build();
    await t.start();
    log.length = 0;
    t.unlock('out');
    clock.tick(300);
    expect(writes()).toEqual(['exit=1@0', 'exit=0@300']);
  });

  it('unlocked → timeout: a grant without passage is notPassed after passageTimeoutMs', async () => {
    const t = build();
    await t.start();
    t.unlock('out', { grantRef: 'g1' });
    clock.tick(7_999);
    expect(events).toEqual([]);
    clock.tick(1);
    expect(events).toEqual([['notPassed', { direction: 'out', grantRef: 'g1', atMs: T0 + 8_000, missed: 1 }]]);
    expect(t.state).toBe('idle');
    t.passageSensed(Date.now()); // late rotation: no grant left to credit
    expect(events).toHaveLength(1);
  });

  it('a grant for two passages reports each, each with its own window, then notPassed for the rest', async () => {
    const t = build();
    await t.start();
    t.unlock('in', { grantRef: 'pair', passages: 3 });
    clock.tick(1_000);
    t.passageSensed(Date.now());
    clock.tick(7_000); // 8 s after unlock, but only 7 s after the first passage
    t.passageSensed(Date.now());
    clock.tick(8_000);
    expect(events).toEqual([
      ['passage', { direction: 'in', grantRef: 'pair', atMs: T0 + 1_000 }],
      ['passage', { direction: 'in', grantRef: 'pair', atMs: T0 + 8_000 }],
      ['notPassed', { direction: 'in', grantRef: 'pair', atMs: T0 + 16_000, missed: 1 }],
    ]);
  });

  it('two grants in a row are credited oldest first', async () => {
    const t = build();
    await t.start();
    t.unlock('in', { grantRef: 'a' });
    t.unlock('out', { grantRef: 'b' });
    expect(t.pending()).toEqual([
      { direction: 'in', grantRef: 'a', remaining: 1 },
      { direction: 'out', grantRef: 'b', remaining: 1 },
    ]);
    t.passageSensed(Date.now());
    t.passageSensed(Date.now());
    expect(events.map(([n, i]) => [n, (i as { grantRef: string }).grantRef])).toEqual([
      ['passage', 'a'],
      ['passage', 'b'],
    ]);
  });

  it('a second unlock while pulsing restarts the pulse instead of cutting it short', async () => {
    const t = build();
    await t.start();
    log.length = 0;
    t.unlock('in');
    clock.tick(400);
    t.unlock('in');
    clock.tick(400);
    expect(relays.entry.get()).toBe(true);
    clock.tick(100);
    expect(writes()).toEqual(['entry=1@0', 'entry=1@400', 'entry=0@900']);
  });

  it('a door strike has one relay: both directions pulse it', async () => {
    const t = build({ relays: { in: relays.entry } });
    await t.start();
    log.length = 0;
    t.unlock('out');
    clock.tick(300);
    expect(writes()).toEqual(['entry=1@0', 'entry=0@300']);
  });

  it('rejects a passage count that is not a positive integer, and moves nothing', async () => {
    const t = build();
    await t.start();
    log.length = 0;
    expect(() => t.unlock('in', { passages: 0 })).toThrow(expect.objectContaining({ code: 'ERR_TURNSTILE_PASSAGES' }));
    expect(log).toEqual([]);
    expect(t.state).toBe('idle');
  });

  it('emergency holds every relay active (free), and leaving it releases them', async () => {
    const t = build();
    await t.start();
    log.length = 0;
    t.setMode('emergency');
    expect(t.state).toBe('free');
    expect(writes()).toEqual(['entry=1@0', 'exit=1@0']);
    t.unlock('in', { grantRef: 'e1' }); // EMERGENCY_OPEN grant: no pulse, relays stay held
    clock.tick(1_000);
    expect(relays.entry.get()).toBe(true);
    t.passageSensed(Date.now());
    expect(events).toEqual([['passage', { direction: 'in', grantRef: 'e1', atMs: T0 + 1_000 }]]);
    t.passageSensed(Date.now()); // people fleeing without a tap: nothing to credit, no event
    expect(events).toHaveLength(1);
    t.setMode('normal');
    expect(t.state).toBe('idle');
    expect(writes()).toEqual(['entry=1@0', 'exit=1@0', 'entry=0@1000', 'exit=0@1000']);
  });

  it('entering emergency mid-pulse keeps the relay held past pulseMs', async () => {
    const t = build();
    await t.start();
    t.unlock('in');
    clock.tick(100);
    t.setMode('emergency');
    clock.tick(10_000);
    expect(relays.entry.get()).toBe(true);
    expect(relays.exit.get()).toBe(true);
  });

  it('lockdown still lets a granted unlock turn (security staff)', async () => {
    const t = build();
    await t.start();
    t.setMode('lockdown');
    expect(t.mode).toBe('lockdown');
    t.unlock('in');
    expect(relays.entry.get()).toBe(true);
    expect(t.state).toBe('unlocked');
  });

  it('door opened while idle is forced; opened during an unlock is not', async () => {
    const t = build();
    await t.start();
    t.doorChanged(true, Date.now());
    t.doorChanged(true, Date.now()); // a repeated edge is not a second opening
    t.doorChanged(false, Date.now());
    expect(events).toEqual([['doorForced', { atMs: T0 }]]);
    t.unlock('in');
    clock.tick(200);
    t.doorChanged(true, Date.now());
    t.passageSensed(Date.now());
    t.doorChanged(false, Date.now());
    expect(events.map(([n]) => n)).toEqual(['doorForced', 'passage']);
  });

  it('door opened in emergency is neither forced nor held', async () => {
    const t = build();
    await t.start();
    t.setMode('emergency');
    t.doorChanged(true, Date.now());
    clock.tick(120_000);
    expect(events).toEqual([]);
  });

  it('door held open longer than doorHeldMs is reported once per opening', async () => {
    const t = build();
    await t.start();
    t.unlock('in');
    t.doorChanged(true, Date.now());
    clock.tick(29_999);
    expect(events.filter(([n]) => n === 'doorHeld')).toEqual([]);
    clock.tick(1);
    clock.tick(60_000);
    expect(events.filter(([n]) => n === 'doorHeld')).toEqual([['doorHeld', { openMs: 30_000, atMs: T0 + 30_000 }]]);
    t.doorChanged(false, Date.now());
    t.unlock('in');
    t.doorChanged(true, Date.now());
    clock.tick(5_000);
    t.doorChanged(false, Date.now()); // closed in time: no second report
    clock.tick(60_000);
    expect(events.filter(([n]) => n === 'doorHeld')).toHaveLength(1);
  });

  it('door-held timing starts at the edge time the input reported, not when the call arrived', async () => {
    const t = build();
    await t.start();
    const openedAt = Date.now();
    clock.tick(10_000);
    t.doorChanged(true, openedAt);
    clock.tick(20_000);
    expect(events.filter(([n]) => n === 'doorHeld')).toEqual([['doorHeld', { openMs: 30_000, atMs: T0 + 30_000 }]]);
  });

  it('stop() clears every timer, drops pending grants silently and leaves relays inactive', async () => {
    const t = build();
    await t.start();
    t.unlock('in', { grantRef: 'x' });
    t.setMode('emergency');
    t.doorChanged(true, Date.now());
    await t.stop();
    expect(relays.entry.get()).toBe(false);
    expect(relays.exit.get()).toBe(false);
    expect(clock.countTimers()).toBe(0);
    clock.tick(120_000);
    expect(events).toEqual([]);
  });
});

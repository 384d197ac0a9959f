import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import sinon from 'sinon';
import { BACKGROUNDS, Indicator, PATTERNS, type IndicatorPattern } from '../../src/controller/indicator.js';
import type { GateMode } from '../../src/controller/reasons.js';
import { recordingOutputs, type OutputWrite } from './fakes/recording-output.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const ALL_PATTERNS = Object.keys(PATTERNS) as IndicatorPattern[];

describe('Indicator', () => {
  let clock: sinon.SinonFakeTimers;
  let log: OutputWrite[];
  let outputs: ReturnType<typeof recordingOutputs<'green' | 'red' | 'buzzer'>>['outputs'];
  let indicator: Indicator;
  const trace = (from = 0) =>
    log.slice(from).map((w) => `${w.name}=${w.active ? 1 : 0}@${w.atMs - T0}`);
  const lines = () => ({ green: outputs.green.get(), red: outputs.red.get(), buzzer: outputs.buzzer.get() });

  beforeEach(async () => {
    clock = sinon.useFakeTimers({ now: T0 });
    const r = recordingOutputs(['green', 'red', 'buzzer'] as const);
    outputs = r.outputs;
    log = r.log;
    indicator = new Indicator(outputs);
    await indicator.start();
  });
  afterEach(async () => {
    await indicator.stop();
    clock.restore();
  });

  /** What a person at the gate sees and hears: the write trace of one pattern played from all-off. */
  const traceOf = (play: () => void, ms: number): string => {
    clock.setSystemTime(T0);
    const from = log.length;
    play();
    clock.tick(ms);
    const t = trace(from).join(' ');
    return t;
  };

  it('granted: green with a short chirp, then back to all off', () => {
    indicator.show('granted');
    expect(lines()).toEqual({ green: true, red: false, buzzer: true });
    clock.tick(100);
    expect(lines()).toEqual({ green: true, red: false, buzzer: false });
    clock.tick(1_400);
    expect(lines()).toEqual({ green: false, red: false, buzzer: false });
    expect(indicator.pattern).toBeUndefined();
    expect(trace()).toEqual(['green=1@0', 'buzzer=1@0', 'buzzer=0@100', 'green=0@1500']);
  });

  it('every pattern and every mode background has its own write sequence', async () => {
    const seen = new Map<string, string>();
    for (const p of ALL_PATTERNS) {
      const t = traceOf(() => indicator.show(p), 4_000);
      expect(t, p).not.toBe('');
      seen.set(`pattern:${p}`, t);
    }
    for (const m of ['lockdown', 'emergency'] as GateMode[]) {
      const t = traceOf(() => indicator.setMode(m), 4_000);
      indicator.setMode('normal');
      expect(t, m).not.toBe('');
      seen.set(`mode:${m}`, t);
    }
    const traces = [...seen.values()];
    expect(new Set(traces).size, JSON.stringify(Object.fromEntries(seen), null, 1)).toBe(traces.length);
    expect(seen.size).toBe(7);
  });

  it('patterns are data: steps with positive durations', () => {
    for (const [name, steps] of Object.entries(PATTERNS)) {
      expect(steps.length, name).toBeGreaterThan(0);
      for (const s of steps) expect(s.ms, name).toBeGreaterThan(0);
    }
    expect(BACKGROUNDS.normal).toEqual([{ green: false, red: false, buzzer: false, ms: 0 }]);
  });

  it('a new show() cancels the one playing', () => {
    indicator.show('alert');
    clock.tick(150); // alert is mid-flash
    indicator.show('granted');
    expect(indicator.pattern).toBe('granted');
    clock.tick(1_500);
    expect(lines()).toEqual({ green: false, red: false, buzzer: false });
    const after = log.length;
    clock.tick(10_000);
    expect(log.length).toBe(after); // nothing of the alert is left running
  });

  it('lockdown background: red steady, restored after a pattern', () => {
    indicator.setMode('lockdown');
    expect(lines()).toEqual({ green: false, red: true, buzzer: false });
    indicator.show('granted');
    expect(lines()).toEqual({ green: true, red: false, buzzer: true });
    clock.tick(1_500);
    expect(lines()).toEqual({ green: false, red: true, buzzer: false });
    expect(clock.countTimers()).toBe(0); // a steady state needs no timer
  });

  it('emergency background: green steady, buzzer beeping every 2 s', () => {
    indicator.setMode('emergency');
    const from = log.length;
    clock.tick(6_000);
    expect(trace(from)).toEqual([
      'buzzer=0@250', 'buzzer=1@2000', 'buzzer=0@2250', 'buzzer=1@4000', 'buzzer=0@4250', 'buzzer=1@6000',
    ]);
    expect(outputs.green.get()).toBe(true);
  });

  it('a mode change takes over at once, even during a long pattern', () => {
    indicator.show('escortWait', { repeatForMs: 30_000 });
    clock.tick(1_200);
    indicator.setMode('emergency');
    expect(indicator.pattern).toBeUndefined();
    expect(lines()).toEqual({ green: true, red: false, buzzer: true });
  });

  it('escortWait repeats for the escort window, then the background returns', () => {
    indicator.show('escortWait', { repeatForMs: 30_000 });
    clock.tick(29_999);
    expect(indicator.pattern).toBe('escortWait');
    clock.tick(1);
    expect(indicator.pattern).toBeUndefined();
    expect(lines()).toEqual({ green: false, red: false, buzzer: false });
  });

  it('normal mode switches everything off', () => {
    indicator.setMode('lockdown');
    indicator.setMode('normal');
    expect(lines()).toEqual({ green: false, red: false, buzzer: false });
  });

  it('stop() turns everything off and leaves no timer; show() after stop does nothing', async () => {
    indicator.setMode('emergency');
    indicator.show('alert');
    await indicator.stop();
    expect(lines()).toEqual({ green: false, red: false, buzzer: false });
    expect(clock.countTimers()).toBe(0);
    const n = log.length;
    indicator.show('granted');
    expect(log.length).toBe(n);
  });

  it('works with only some outputs wired (no buzzer)', () => {
    const r = recordingOutputs(['green', 'red'] as const);
    const partial = new Indicator({ green: r.outputs.green, red: r.outputs.red });
    partial.show('denied');
    expect(r.outputs.red.get()).toBe(true);
    clock.tick(1_000);
    expect(r.outputs.red.get()).toBe(false);
  });
});

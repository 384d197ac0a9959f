/**
 * The cdev backend on a real kernel GPIO stack: Debian's 6.1 kernel under
 * QEMU with gpio-sim (tests/helpers/gpio-rig.ts). One boot per file runs
 * scripts/gpio-rig/checks.ts inside the guest through the daemon's own
 * backend and the daemon itself; each test below judges one check's numbers.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonLines, ROOT, runInRig, type RigRun } from '../../helpers/gpio-rig.js';

type Result = Record<string, any>;
let run: RigRun;
let results: Map<string, Result>;
const get = (name: string): Result => {
  const r = results.get(name);
  if (!r) throw new Error(`check "${name}" reported nothing; guest console:\n${run.console.slice(-4000)}`);
  if (r.failed) throw new Error(`check "${name}" failed in the guest: ${r.failed.message}\n${r.stack}`);
  return r;
};

describe('gpio cdev backend on gpio-sim (QEMU, Debian 6.1 kernel)', () => {
  beforeAll(async () => {
    // npm test builds dist/ first; the guest runs that build with this node.
    expect(existsSync(join(ROOT, 'dist/scripts/gpio-rig/checks.js'))).toBe(true);
    run = await runInRig(`exec ${process.execPath} ${join(ROOT, 'dist/scripts/gpio-rig/checks.js')} "$PWD/results.jsonl" /run/rig`, {
      timeoutMs: 600_000,
    });
    const file = join(run.job, 'results.jsonl');
    results = new Map(existsSync(file) ? readJsonLines(file).map((r) => [r.check as string, r]) : []);
    if (!results.has('done')) throw new Error(`the guest did not finish (exit ${run.exit}, ${run.elapsedMs} ms):\n${run.console.slice(-6000)}`);
  }, 900_000);
  afterAll(() => {
    if (run) rmSync(run.job, { recursive: true, force: true });
  });

  it('relays never show their active level while the backend starts (sampled), and rest inactive after', () => {
    const r = get('start-safe');
    expect(r.backend).toBe('cdev');
    expect(r.before).toEqual({ entry: '1', exit: '0' });
    expect(r.sweeps).toBeGreaterThan(50);
    expect(r.seenEntry).toEqual(['1']); // active-low: inactive is high
    expect(r.seenExit).toEqual(['0']);
    expect(r.after).toEqual({ entry: '1', exit: '0' });
  });

  it('active-low is applied once: an active-low relay drives low when active, an active-high one high', () => {
    const r = get('active-low');
    expect(r).toMatchObject({ entryActive: '0', entryInactive: '1', exitActive: '1', exitInactive: '0', consumer: 'gate-controller' });
  });

  it('bias from the config reaches the chip, and inputs read it (active-low applied)', () => {
    const r = get('bias');
    expect(r).toMatchObject({ passagePull: 'pull-up', doorPull: 'pull-down', firePull: 'pull-up', passage: true, door: false, fireAlarm: false });
  });

  it('edge events arrive in order with the kernel timestamp, active-low inverted', () => {
    const r = get('edges');
    expect(r.initial).toEqual({ door: false, tamper: true }); // tamper is active-low and pulled down: active
    expect(r.events.map((e: Result) => [e.line, e.active])).toEqual([
      ['door', true],
      ['door', false],
      ['tamper', false],
      ['tamper', true],
    ]);
    for (const e of r.events) {
      // Stamped between the write that caused it and the moment the daemon heard it.
      expect(e.atMs).toBeGreaterThanOrEqual(e.drivenMs - 2);
      expect(e.atMs).toBeLessThanOrEqual(e.heardMs + 1);
    }
  });

  it('kernel debounce: a 5 ms glitch under debounceMs 300 gives no event; a held press gives one each way', () => {
    const r = get('debounce');
    expect(r.glitchUs).toBeLessThan(150_000); // the glitch really was far shorter than debounceMs
    expect(r.afterGlitch).toBe(0);
    expect(r.events.map((e: Result) => e.active)).toEqual([true, false]);
    // The kernel reports a debounced edge once the line was stable for debounceMs.
    expect(r.events[0].atMs).toBeGreaterThanOrEqual(r.pressMs - 2);
    expect(r.events[1].atMs).toBeGreaterThanOrEqual(r.releaseMs - 2);
    console.log(`debounce: glitch ${Math.round(r.glitchUs)} us; press heard after ${r.events[0].heardMs - r.pressMs} ms, release after ${r.events[1].heardMs - r.releaseMs} ms`);
  });

  it('a line held by another process stops the start with GPIO_BUSY naming the key and the consumer; nothing stays held', () => {
    const r = get('busy');
    expect(r.error.code).toBe('GPIO_BUSY');
    expect(r.error.message).toContain('gpio.leds.green');
    expect(r.error.message).toContain('"rig-holder"');
    expect(r.entryAfter).toEqual({ value: '1', usedFlag: false });
  });

  it('a missing chip or line is a clear error naming gpio.chip / the key', () => {
    const r = get('missing-chip');
    expect(r['no-such-chip'].code).toBe('GPIO_NO_CHIP');
    expect(r['no-such-chip'].message).toMatch(/^gpio\.chip: no GPIO chip labeled "no-such-chip" \(chips seen: .*"pinctrl-bcm2711".*"gate-rig"/);
    expect(r['/dev/gpiochip99'].code).toBe('GPIO_NO_CHIP');
    expect(r['/dev/gpiochip99'].message).toContain('gpio.chip: /dev/gpiochip99');
    expect(r.badLine.code).toBe('GPIO_BAD_LINE');
    expect(r.badLine.message).toContain('gpio.relays.entry (BCM 60');
  });

  it('a SIGKILLed owner: the kernel frees the line and gpio-sim returns it to its pull (measured, see docs/gpio.md)', () => {
    const r = get('crash');
    expect(r['out-high-pull-down'].held).toEqual({ value: '1', consumer: 'rig-crash' });
    expect(r['out-low-pull-up'].held).toEqual({ value: '0', consumer: 'rig-crash' });
    expect(r['out-high-pull-down'].released).toMatchObject({ consumer: '', used: false });
    expect(r['out-low-pull-up'].released).toMatchObject({ consumer: '', used: false });
    // The level after release is what docs/gpio.md reports: printed so a change shows.
    console.log('gpio-sim after SIGKILL:', JSON.stringify(r));
  });

  it('permission denied on the chip says to add the service user to the gpio group, naming gpio.chip', () => {
    const r = get('permission').result;
    expect(r.code).toBe('GPIO_ACCESS');
    expect(r.message).toMatch(/^gpio\.chip: \/dev\/gpiochip\d+: permission denied on \/dev\/gpiochip\d+: add the service user to the "gpio" group/);
  });

  it('the chip vanishing under requested lines: an output write fails with GPIO_NO_CHIP naming the key', () => {
    const r = get('vanish');
    expect(r.setError.code).toBe('GPIO_NO_CHIP');
    expect(r.setError.message).toMatch(/^gpio\.relays\.entry \(BCM 1 on \/dev\/gpiochip\d+\): the chip is gone \(ENODEV\)/);
    console.log('chip vanished: input heard it:', JSON.stringify(r.inputLogged), 'stop:', JSON.stringify(r.stopError));
  });

  it('the daemon with a wrong chip label exits 1 with a message naming gpio.chip', () => {
    const r = get('daemon-wrong-chip');
    expect(r.code).toBe(1);
    expect(r.stderr.join('\n')).toMatch(/gate-controller: GPIO: gpio\.chip: no GPIO chip labeled "pinctrl-nope"/);
  });

  it('one whole tap: ready names cdev, relay never active at start, journal row before the relay rises, pulse ~pulseMs, inactive after stop', () => {
    const r = get('tap');
    const exit = get('tap-exit');
    expect(r.ready.gpio).toBe('cdev');
    expect(r.startSeen).toEqual(['1']);
    expect(r.rowsAtRise).toBe(r.rowsBefore + 1);
    // 500 ms pulse measured by busy-polling sim_gpio17/value in a guest ~10x slower than the host.
    expect(r.pulseMs).toBeGreaterThanOrEqual(480);
    expect(r.pulseMs).toBeLessThan(2500);
    expect(r.valueAfter).toBe('1');
    expect(exit.code).toBe(0);
    expect(exit.valueAfterStop).toBe('1');
    console.log(`rig: boot+checks ${run.elapsedMs} ms; tap: relay rose ${r.riseAfterTypeMs} ms after the card, pulse ${r.pulseMs} ms`);
  });
});

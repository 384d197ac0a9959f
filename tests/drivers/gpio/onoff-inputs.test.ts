import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config.js';
import { buildGpio, FakeGpioChip } from '../../../src/drivers/gpio/index.js';
import type { GpioSet } from '../../../src/drivers/types.js';
import { silentLogger } from '../../../src/log.js';
import { makeSysfsTree, PI4_6_6 } from './sysfs-tree.js';

const PASSAGE = 512 + 22;
const FIRE = 512 + 24;
const BUTTON = 512 + 25;

let sysfs: ReturnType<typeof makeSysfsTree>;
let clock: sinon.SinonFakeTimers;
let fake: FakeGpioChip;
let gpio: GpioSet;
let events: Array<[string, boolean, number]>;

beforeEach(async () => {
  sysfs = makeSysfsTree(PI4_6_6);
  clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  fake = new FakeGpioChip({ base: 512, ngpio: 58 });
  fake.drive(FIRE, 1); // fire alarm loop closed (idle) before we start: active-low
  const cfg = configSchema.shape.gpio.parse({
    backend: 'onoff',
    sysfsRoot: sysfs.root,
    inputs: {
      passage: { line: 22, debounceMs: 20 },
      fireAlarm: { line: 24, activeLow: true, debounceMs: 20 },
      exitButton: { line: 25, debounceMs: 0 },
    },
  });
  gpio = buildGpio(cfg, { log: silentLogger(), onoff: fake.Gpio });
  await gpio.start();
  events = [];
  for (const [name, input] of Object.entries(gpio.inputs)) input.onChange((active, at) => events.push([name, active, at]));
});

afterEach(async () => {
  await gpio.stop();
  clock.restore();
  sysfs.cleanup();
});

describe('onoff inputs', () => {
  it('reads the level at start without calling it a transition, activeLow applied', () => {
    expect(gpio.inputs.fireAlarm!.get()).toBe(false);
    expect(gpio.inputs.passage!.get()).toBe(false);
    expect(events).toEqual([]);
  });

  it('emits a settled transition debounceMs after the last edge, stamped with the first edge', () => {
    const t0 = Date.now();
    fake.drive(FIRE, 0); // alarm: active-low line pulled down
    clock.tick(5);
    fake.drive(FIRE, 1); // contact bounce
    clock.tick(3);
    fake.drive(FIRE, 0);
    clock.tick(19);
    expect(events).toEqual([]);
    clock.tick(1);
    expect(events).toEqual([['fireAlarm', true, t0]]);
    expect(gpio.inputs.fireAlarm!.get()).toBe(true);
  });

  it('a bounce that returns to the settled level is no transition', () => {
    fake.drive(PASSAGE, 1);
    clock.tick(2);
    fake.drive(PASSAGE, 0);
    clock.tick(2);
    fake.drive(PASSAGE, 1);
    clock.tick(2);
    fake.drive(PASSAGE, 0);
    clock.tick(100);
    expect(events).toEqual([]);
  });

  it('tracks both edges: rotation start and end are two events', () => {
    fake.drive(PASSAGE, 1);
    clock.tick(50);
    fake.drive(PASSAGE, 0);
    clock.tick(50);
    expect(events.map(([n, a]) => [n, a])).toEqual([
      ['passage', true],
      ['passage', false],
    ]);
    expect(events[1]![2] - events[0]![2]).toBe(50);
  });

  it('re-reads the line: a wake-up without a level change emits nothing (fivdi/onoff#191)', () => {
    fake.interrupt(PASSAGE);
    fake.interrupt(BUTTON);
    clock.tick(100);
    expect(events).toEqual([]);
    // Two wake-ups for one change (merged pulse) are still one transition.
    fake.drive(BUTTON, 1);
    fake.interrupt(BUTTON);
    expect(events).toEqual([['exitButton', true, Date.now()]]);
  });

  it('debounceMs 0 reports at once, without waiting for a timer', () => {
    fake.drive(BUTTON, 1);
    expect(events).toEqual([['exitButton', true, Date.now()]]);
    fake.drive(BUTTON, 0);
    expect(events.at(-1)).toEqual(['exitButton', false, Date.now()]);
  });

  it('a listener that throws does not stop the others; unsubscribing works', () => {
    const seen: boolean[] = [];
    gpio.inputs.exitButton!.onChange(() => {
      throw new Error('boom');
    });
    const off = gpio.inputs.exitButton!.onChange((a) => seen.push(a));
    fake.drive(BUTTON, 1);
    off();
    fake.drive(BUTTON, 0);
    expect(seen).toEqual([true]);
    expect(events.length).toBe(2);
  });

  it('stop() cancels a pending settle, stops watching and releases the lines', async () => {
    fake.drive(PASSAGE, 1);
    await gpio.stop();
    clock.tick(100);
    expect(events).toEqual([]);
    for (const s of [PASSAGE, FIRE, BUTTON]) expect(fake.isExported(s)).toBe(false);
    fake.drive(BUTTON, 1);
    expect(events).toEqual([]);
    await gpio.start(); // afterEach stops again
    expect(gpio.inputs.exitButton!.get()).toBe(true);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config.js';
import { buildGpio, FakeGpioChip, GpioError } from '../../../src/drivers/gpio/index.js';
import type { GpioSet } from '../../../src/drivers/types.js';
import { silentLogger } from '../../../src/log.js';
import { makeSysfsTree, PI4_6_6 } from './sysfs-tree.js';

// Pi 4, kernel 6.6+: sysfs = 512 + BCM.
const S = (bcm: number) => 512 + bcm;
const ENTRY = S(17);
const EXIT = S(27);

let sysfs: ReturnType<typeof makeSysfsTree>;
beforeEach(() => {
  sysfs = makeSysfsTree(PI4_6_6);
});
afterEach(() => sysfs.cleanup());

function wiring(over: Record<string, unknown> = {}) {
  return configSchema.shape.gpio.parse({
    backend: 'onoff',
    sysfsRoot: sysfs.root,
    // The usual 2-channel relay board is active-low (IN low = coil energized).
    relays: { entry: { line: 17, activeLow: true }, exit: { line: 27, activeLow: false } },
    leds: { green: { line: 5 }, red: { line: 6 } },
    buzzer: { line: 13 },
    inputs: { passage: { line: 22 }, fireAlarm: { line: 24, activeLow: true } },
    ...over,
  });
}

function build(fake: FakeGpioChip, over?: Record<string, unknown>): GpioSet {
  return buildGpio(wiring(over), { log: silentLogger(), onoff: fake.Gpio });
}

describe('onoff outputs', () => {
  it('drives every relay to its safe level before any other line is touched', async () => {
    const fake = new FakeGpioChip({ base: 512, ngpio: 58 });
    await build(fake).start();
    const touched = fake.recording.map((r) => r.sysfs);
    const lastRelay = Math.max(touched.lastIndexOf(ENTRY), touched.lastIndexOf(EXIT));
    const firstOther = touched.findIndex((s) => s !== ENTRY && s !== EXIT);
    expect(lastRelay).toBeLessThan(firstOther);
    // Safe = inactive: pin high on the active-low board, low on the other.
    expect(fake.level(ENTRY)).toBe(1);
    expect(fake.level(EXIT)).toBe(0);
  });

  it('never passes an active-low relay through its active level on a fresh export', async () => {
    const fake = new FakeGpioChip({ base: 512, ngpio: 58 });
    const gpio = build(fake);
    await gpio.start();
    expect(fake.levels(ENTRY)).toEqual([1, 1]); // direction 'high', then the explicit safe write
    await gpio.stop();
    expect(fake.levels(ENTRY).every((l) => l === 1)).toBe(true);
  });

  it('de-energizes a relay the killed previous run left active, without a glitch', async () => {
    const fake = new FakeGpioChip({ base: 512, ngpio: 58 });
    fake.preExport(ENTRY, 'out', 0); // active-low relay energized mid-pulse
    fake.preExport(EXIT, 'out', 1); // active-high relay energized mid-pulse
    await build(fake).start();
    const first = fake.recording.filter((r) => r.op === 'level').slice(0, 2);
    expect(first).toEqual([
      { op: 'level', sysfs: ENTRY, level: 1, via: 'write' },
      { op: 'level', sysfs: EXIT, level: 0, via: 'write' },
    ]);
  });

  it('the fake would show the glitch onoff makes with reconfigureDirection left on', () => {
    // Proves the assertions above can fail: onoff's default re-writes 'out' = 0.
    const fake = new FakeGpioChip({ base: 512, ngpio: 58 });
    fake.preExport(ENTRY, 'out', 1);
    new fake.Gpio(ENTRY, 'high', 'none', {});
    expect(fake.levels(ENTRY)).toEqual([1]);
    new fake.Gpio(ENTRY, 'out', 'none', {});
    expect(fake.levels(ENTRY)).toEqual([1, 0]);
  });

  it('applies activeLow itself: set(true) energizes, get() reports the logical state', async () => {
    const fake = new FakeGpioChip({ base: 512, ngpio: 58 });
    const gpio = build(fake);
    await gpio.start();
    const { entry, exit, green } = gpio.outputs;
    entry!.set(true);
    exit!.set(true);
    green!.set(true);
    expect([fake.level(ENTRY), fake.level(EXIT), fake.level(S(5))]).toEqual([0, 1, 1]);
    expect(entry!.get()).toBe(true);
    entry!.set(false);
    expect(fake.level(ENTRY)).toBe(1);
    expect(entry!.get()).toBe(false);
  });

  it('stop() leaves every output inactive and every line unexported', async () => {
    const fake = new FakeGpioChip({ base: 512, ngpio: 58 });
    const gpio = build(fake);
    await gpio.start();
    gpio.outputs.entry!.set(true);
    gpio.outputs.buzzer!.set(true);
    await gpio.stop();
    expect(fake.level(ENTRY)).toBe(1);
    expect(fake.level(S(13))).toBe(0);
    for (const bcm of [17, 27, 5, 6, 13, 22, 24]) expect(fake.isExported(S(bcm))).toBe(false);
    expect(() => gpio.outputs.entry!.set(true)).toThrow(expect.objectContaining({ code: 'GPIO_NOT_STARTED' }));
    expect(fake.level(ENTRY)).toBe(1);
  });

  it('restarts on lines it released, and writes nothing before start()', async () => {
    const fake = new FakeGpioChip({ base: 512, ngpio: 58 });
    const gpio = build(fake);
    expect(() => gpio.outputs.red!.set(true)).toThrow(GpioError);
    expect(fake.recording).toEqual([]);
    await gpio.start();
    await gpio.stop();
    await gpio.start();
    gpio.outputs.red!.set(true);
    expect(fake.level(S(6))).toBe(1);
    await gpio.stop();
  });
});

describe('GPIO_ACCESS errors name the line and the likely cause', () => {
  it('EACCES: the user is not in the gpio group; nothing is left exported', async () => {
    const fake = new FakeGpioChip({ base: 512, ngpio: 58, exportAllowed: false });
    const err = await build(fake).start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpioError);
    expect(err).toMatchObject({ code: 'GPIO_ACCESS', cause: expect.objectContaining({ code: 'EACCES' }) });
    expect((err as Error).message).toMatch(/"entry" \(BCM 17, sysfs 529\).*gpio" group/);
  });

  it('EINVAL: the number does not exist on this chip (wrong base)', async () => {
    // The kernel still numbers from 0 but sysfs reads as a 6.6 tree: a mismatch the user must see.
    const fake = new FakeGpioChip({ base: 0, ngpio: 54 });
    const err = await build(fake).start().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'GPIO_ACCESS' });
    expect((err as Error).message).toMatch(/EINVAL.*wrong line number or wrong chip base/);
  });

  it('EBUSY on a later line: the relays already set up are released again, still safe', async () => {
    const fake = new FakeGpioChip({ base: 512, ngpio: 58, busy: [S(13)] });
    const err = await build(fake).start().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'GPIO_ACCESS' });
    expect((err as Error).message).toMatch(/"buzzer" \(BCM 13, sysfs 525\): EBUSY: the line is in use/);
    expect(fake.isExported(ENTRY)).toBe(false);
    expect(fake.isExported(S(5))).toBe(false);
    expect(fake.level(ENTRY)).toBe(1);
  });

  it('the fake refuses writes to an input and use of an unexported line, like sysfs', () => {
    const fake = new FakeGpioChip({ base: 512, ngpio: 58 });
    const line = new fake.Gpio(S(22), 'in', 'both', {});
    expect(() => line.writeSync(1)).toThrow(expect.objectContaining({ code: 'EPERM' }));
    line.unexport();
    expect(() => line.readSync()).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});

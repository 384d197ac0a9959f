import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildGpio, FakeGpioChip, findMainChip, GpioError } from '../../../src/drivers/gpio/index.js';
import { makeLineResolver } from '../../../src/drivers/gpio/sysfs-chip.js';
import { silentLogger } from '../../../src/log.js';
import { configSchema } from '../../../src/config.js';
import { makeSysfsTree, PI3_OLD_KERNEL, PI4_6_6, PI5_6_6_47, PI5_BEFORE_6_6_47, type ChipSpec } from './sysfs-tree.js';

const trees: Array<{ cleanup(): void }> = [];
function tree(chips: ChipSpec[]): string {
  const t = makeSysfsTree(chips);
  trees.push(t);
  return t.root;
}
afterEach(() => {
  while (trees.length) trees.pop()!.cleanup();
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GpioError);
    return (err as GpioError).code;
  }
  return undefined;
}

describe('BCM line → sysfs number', () => {
  it.each([
    ['Pi 4, kernel 6.6+', PI4_6_6, 'pinctrl-bcm2711', 512 + 17],
    ['Pi 5, kernel 6.6.20 (RP1 was gpiochip4)', PI5_BEFORE_6_6_47, 'pinctrl-rp1', 571 + 17],
    ['Pi 5, kernel 6.6.47+ (RP1 is gpiochip0)', PI5_6_6_47, 'pinctrl-rp1', 571 + 17],
    ['Pi 3B+, older kernel', PI3_OLD_KERNEL, 'pinctrl-bcm2835', 17],
  ])('%s: BCM 17 is sysfs %i on the main controller', (_name, chips, label, expected) => {
    const chip = findMainChip(tree(chips));
    expect(chip.label).toBe(label);
    expect(makeLineResolver(chip)('entry', 17)).toBe(expected);
  });

  it('never picks the firmware expander, even when it is the only chip', () => {
    const root = tree([{ base: 504, ngpio: 8, label: 'raspberrypi-exp-gpio' }]);
    expect(codeOf(() => findMainChip(root))).toBe('GPIO_NO_CHIP');
    expect(() => findMainChip(root)).toThrow(/gpiochip504=raspberrypi-exp-gpio/);
  });

  it('reports GPIO_NO_CHIP when sysfs GPIO is missing altogether', () => {
    const root = join(tree([]), 'nope');
    expect(codeOf(() => findMainChip(root))).toBe('GPIO_NO_CHIP');
    expect(() => findMainChip(root)).toThrow(/ENOENT/);
  });

  it('skips a chip directory whose attributes cannot be read', () => {
    const root = tree(PI4_6_6);
    mkdirSync(join(root, 'gpiochip600'));
    writeFileSync(join(root, 'gpiochip600', 'label'), 'pinctrl-bcm2711\n'); // no base/ngpio
    expect(findMainChip(root).base).toBe(512);
  });

  it('rejects a BCM line beyond the controller with GPIO_BAD_LINE', () => {
    const chip = findMainChip(tree(PI5_6_6_47));
    const resolve = makeLineResolver(chip);
    expect(resolve('exit', 53)).toBe(571 + 53);
    expect(codeOf(() => resolve('exit', 54))).toBe('GPIO_BAD_LINE');
    expect(() => resolve('exit', 54)).toThrow(/"exit": BCM 54 is outside pinctrl-rp1 \(lines 0-53\)/);
  });
});

describe('buildGpio uses the resolved numbers', () => {
  const cfg = (sysfsRoot: string) =>
    configSchema.shape.gpio.parse({ backend: 'onoff', sysfsRoot, relays: { entry: { line: 17 } }, inputs: { door: { line: 23 } } });

  it('exports base + BCM on a Pi 5 and nothing on a machine without the controller', async () => {
    const fake = new FakeGpioChip({ base: 571, ngpio: 54 });
    const gpio = buildGpio(cfg(tree(PI5_6_6_47)), { log: silentLogger(), onoff: fake.Gpio });
    await gpio.start();
    expect(fake.isExported(588)).toBe(true);
    expect(fake.isExported(571 + 23)).toBe(true);
    expect(fake.isExported(17)).toBe(false);
    await gpio.stop();

    const none = new FakeGpioChip({ base: 0, ngpio: 54 });
    const bad = buildGpio(cfg(tree([{ base: 504, ngpio: 8, label: 'raspberrypi-exp-gpio' }])), { log: silentLogger(), onoff: none.Gpio });
    await expect(bad.start()).rejects.toMatchObject({ code: 'GPIO_NO_CHIP' });
    expect(none.recording).toEqual([]);
  });
});

describe('the real onoff class', () => {
  // Only where this machine has no sysfs GPIO: the export write must fail, not toggle a real line.
  it.skipIf(existsSync('/sys/class/gpio'))('is loaded when no fake is injected, and its errno becomes GPIO_ACCESS', async () => {
    const cfg = configSchema.shape.gpio.parse({ backend: 'onoff', sysfsRoot: tree(PI4_6_6), relays: { entry: { line: 17 } } });
    const err = await buildGpio(cfg, { log: silentLogger() }).start().catch((e: unknown) => e);
    // onoff itself writes /sys/class/gpio/export, which is absent here.
    expect(err).toMatchObject({ code: 'GPIO_ACCESS', cause: expect.objectContaining({ code: 'ENOENT' }) });
    expect((err as Error).message).toMatch(/"entry" \(BCM 17, sysfs 529\): ENOENT/);
  });
});

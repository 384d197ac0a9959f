import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config.js';
import { buildGpio, GpioError, resolveBackend } from '../../../src/drivers/gpio/index.js';
import { createLogger } from '../../../src/log.js';

const dir = mkdtempSync(join(tmpdir(), 'gpio-auto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string, files: string[]) => {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  for (const f of files) writeFileSync(join(root, f), '');
  return root;
};

describe('gpio.backend auto', () => {
  const sysfs = join(dir, 'sysfs');
  mkdirSync(sysfs, { recursive: true });

  it('picks cdev where /dev/gpiochip* exists, even with sysfs present', () => {
    expect(resolveBackend({ backend: 'auto', sysfsRoot: sysfs }, at('dev-chips', ['gpiochip0', 'gpiochip10', 'ttyS0']))).toBe('cdev');
  });

  it('picks onoff where only sysfs GPIO exists', () => {
    expect(resolveBackend({ backend: 'auto', sysfsRoot: sysfs }, at('dev-none', ['ttyS0', 'gpiomem']))).toBe('onoff');
  });

  it('with neither, stops with a message naming gpio.backend', () => {
    const fn = () => resolveBackend({ backend: 'auto', sysfsRoot: join(dir, 'no-sysfs') }, at('dev-empty', []));
    expect(fn).toThrow(GpioError);
    expect(fn).toThrow(/^gpio\.backend: auto found neither .*gpiochip\* nor .*no-sysfs/);
  });

  it('an explicit backend is taken as given', () => {
    for (const b of ['cdev', 'onoff', 'sim'] as const) expect(resolveBackend({ backend: b, sysfsRoot: join(dir, 'x') }, join(dir, 'nowhere'))).toBe(b);
  });

  it('buildGpio reports the resolved backend; the schema accepts bias and chip', () => {
    const cfg = configSchema.shape.gpio.parse({
      backend: 'auto',
      chip: 'pinctrl-bcm2711',
      sysfsRoot: sysfs,
      inputs: { fireAlarm: { line: 24, activeLow: true, bias: 'pull-up' } },
    });
    expect(cfg.inputs.fireAlarm?.bias).toBe('pull-up');
    expect(buildGpio(cfg, { log: createLogger({ level: 'fatal' }), devRoot: at('dev-pi', ['gpiochip0']) }).backend).toBe('cdev');
    expect(() => configSchema.shape.gpio.parse({ inputs: { door: { line: 23, bias: 'pullup' } } })).toThrow(/pull-up|pull-down|disabled/);
  });
});

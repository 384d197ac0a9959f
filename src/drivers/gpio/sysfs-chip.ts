/**
 * BCM line → sysfs GPIO number.
 *
 * Since kernel 6.6 sysfs numbers GPIOs from the chip's base, not from 0:
 * writing BCM 17 to `export` fails with EINVAL (raspberrypi/linux#6084,
 * fivdi/onoff#199, #200). Bases seen: 0 on older kernels, 512 on a Pi 4,
 * 571 on a Pi 5 (whose controller moved from gpiochip4 to gpiochip0 in
 * 6.6.47, WiringPi#280). So the base is read from
 * `<sysfsRoot>/gpiochip*\/{label,base,ngpio}`, never assumed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GpioError } from './errors.js';

/**
 * Labels of the controller that drives the 40-pin header, best first.
 * 'raspberrypi-exp-gpio' (the firmware expander on a Pi 3B+/4) and the
 * Pi 5's 'gpio-brcmstb@…' SoC banks are deliberately absent.
 */
export const MAIN_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2712', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export interface SysfsChip {
  /** The directory name, e.g. gpiochip512 (sysfs names it after the base). */
  dir: string;
  label: string;
  base: number;
  ngpio: number;
}

/** Every gpiochip under the root, in directory order. Unreadable entries are skipped. */
export function listChips(sysfsRoot: string): SysfsChip[] {
  let entries: string[];
  try {
    entries = readdirSync(sysfsRoot).filter((e) => /^gpiochip\d+$/.test(e));
  } catch (cause) {
    const errno = (cause as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    throw new GpioError(
      'GPIO_NO_CHIP',
      `cannot list ${sysfsRoot} (${errno}): sysfs GPIO is missing from this kernel or not mounted`,
      { cause },
    );
  }
  const chips: SysfsChip[] = [];
  for (const dir of entries.sort()) {
    try {
      const read = (f: string) => readFileSync(join(sysfsRoot, dir, f), 'utf8').trim();
      const base = Number(read('base'));
      const ngpio = Number(read('ngpio'));
      if (!Number.isInteger(base) || !Number.isInteger(ngpio)) continue;
      chips.push({ dir, label: read('label'), base, ngpio });
    } catch {
      // A chip whose attributes cannot be read cannot be ours either.
    }
  }
  return chips;
}

/** The Pi's main GPIO controller, by label. */
export function findMainChip(sysfsRoot: string): SysfsChip {
  const chips = listChips(sysfsRoot);
  for (const label of MAIN_CHIP_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip;
  }
  const seen = chips.map((c) => `${c.dir}=${c.label}`).join(', ') || 'none';
  throw new GpioError(
    'GPIO_NO_CHIP',
    `no Raspberry Pi GPIO controller (${MAIN_CHIP_LABELS.join(' | ')}) under ${sysfsRoot}; chips seen: ${seen}`,
  );
}

/** BCM numbers → sysfs numbers on one chip. Throws GPIO_BAD_LINE naming the first bad line. */
export function makeLineResolver(chip: SysfsChip): (name: string, bcm: number) => number {
  return (name, bcm) => {
    if (!Number.isInteger(bcm) || bcm < 0 || bcm >= chip.ngpio) {
      throw new GpioError(
        'GPIO_BAD_LINE',
        `gpio line "${name}": BCM ${bcm} is outside ${chip.label} (lines 0-${chip.ngpio - 1})`,
      );
    }
    return chip.base + bcm;
  };
}

/** Temp directory trees laid out like /sys/class/gpio, for the resolver tests. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ChipSpec {
  base: number;
  ngpio: number;
  label: string;
}

/** Pi 4 on kernel 6.6+ (raspberrypi/linux#6084): main chip at 512, firmware expander above it. */
export const PI4_6_6: ChipSpec[] = [
  { base: 512, ngpio: 58, label: 'pinctrl-bcm2711' },
  { base: 570, ngpio: 8, label: 'raspberrypi-exp-gpio' },
];
/** Pi 5 on 6.6.20: RP1 was gpiochip4, probed after the four SoC banks (WiringPi#280). */
export const PI5_BEFORE_6_6_47: ChipSpec[] = [
  { base: 512, ngpio: 32, label: 'gpio-brcmstb@107d508500' },
  { base: 544, ngpio: 4, label: 'gpio-brcmstb@107d508520' },
  { base: 548, ngpio: 17, label: 'gpio-brcmstb@107d517c00' },
  { base: 565, ngpio: 6, label: 'gpio-brcmstb@107d517c20' },
  { base: 571, ngpio: 54, label: 'pinctrl-rp1' },
];
/** Pi 5 on 6.6.47+: RP1 is gpiochip0 (raspberrypi/linux#6144), the SoC banks follow it. */
export const PI5_6_6_47: ChipSpec[] = [
  { base: 571, ngpio: 54, label: 'pinctrl-rp1' },
  { base: 625, ngpio: 32, label: 'gpio-brcmstb@107d508500' },
  { base: 657, ngpio: 4, label: 'gpio-brcmstb@107d508520' },
  { base: 661, ngpio: 17, label: 'gpio-brcmstb@107d517c00' },
  { base: 678, ngpio: 6, label: 'gpio-brcmstb@107d517c20' },
];
/** A Pi 3B+ on an older kernel: numbering from 0. */
export const PI3_OLD_KERNEL: ChipSpec[] = [
  { base: 0, ngpio: 54, label: 'pinctrl-bcm2835' },
  { base: 504, ngpio: 8, label: 'raspberrypi-exp-gpio' },
];

/** Creates <tmp>/gpiochip<base>/{base,label,ngpio} plus export/unexport; returns the root. */
export function makeSysfsTree(chips: ChipSpec[]): { root: string; cleanup(): void } {
  const top = mkdtempSync(join(tmpdir(), 'gpio-sysfs-'));
  const root = join(top, 'class', 'gpio');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'export'), '');
  writeFileSync(join(root, 'unexport'), '');
  for (const c of chips) {
    const dir = join(root, `gpiochip${c.base}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'base'), `${c.base}\n`);
    writeFileSync(join(dir, 'ngpio'), `${c.ngpio}\n`);
    writeFileSync(join(dir, 'label'), `${c.label}\n`);
  }
  return { root, cleanup: () => rmSync(top, { recursive: true, force: true }) };
}

/**
 * Boot-time levels for the relays, in the Pi's config.txt: the firmware
 * drives each relay line to its INACTIVE level from power-on
 * (`gpio=17=op,dh` for an active-low relay, `op,dl` for an active-high one)
 * until the daemon requests the line, and a released line after a crash is
 * not left to chance at the next boot. Written by scripts/install-pi.sh as
 * one marked block, replaced in place on every run (idempotent).
 *
 *   node dist/scripts/gpio-boot-levels.js --config FILE [--write CONFIG_TXT]
 *
 * Without --write it prints the block.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type GpioConfig, loadConfigFile } from '../src/config.js';

export const BEGIN = '# BEGIN gate-controller relays (written by install-pi.sh; edit config.yaml and re-run it)';
export const END = '# END gate-controller relays';

/** The block's lines: one `gpio=N=op,dl|dh` per configured relay, inactive level. */
export function bootLevels(gpio: Pick<GpioConfig, 'relays'>): string[] {
  const lines: string[] = [];
  for (const [name, relay] of Object.entries(gpio.relays)) {
    if (!relay) continue;
    lines.push(`gpio=${relay.line}=op,${relay.activeLow ? 'dh' : 'dl'}   # relay ${name}: inactive ${relay.activeLow ? 'high (active-low)' : 'low'}`);
  }
  return lines;
}

/** config.txt with our block replaced (or appended under [all]); everything else untouched. */
export function withBootLevels(configTxt: string, levels: string[]): string {
  const block = [BEGIN, '[all]', ...levels, END].join('\n');
  const lines = configTxt.split('\n');
  const b = lines.indexOf(BEGIN);
  const e = lines.indexOf(END);
  if (b >= 0 && e > b) return [...lines.slice(0, b), block, ...lines.slice(e + 1)].join('\n');
  const body = configTxt.endsWith('\n') || configTxt === '' ? configTxt : `${configTxt}\n`;
  return `${body}${block}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({ options: { config: { type: 'string' }, write: { type: 'string' } } });
  if (!values.config) {
    process.stderr.write('usage: gpio-boot-levels --config FILE [--write CONFIG_TXT]\n');
    process.exit(2);
  }
  const levels = bootLevels(loadConfigFile(values.config).gpio);
  if (!values.write) {
    process.stdout.write(`${[BEGIN, '[all]', ...levels, END].join('\n')}\n`);
  } else {
    const before = readFileSync(values.write, 'utf8');
    const after = withBootLevels(before, levels);
    if (after !== before) {
      writeFileSync(`${values.write}.gate-tmp`, after);
      renameSync(`${values.write}.gate-tmp`, values.write);
      process.stdout.write(`${values.write}: relay boot levels written (${levels.length}); they apply from the next boot\n`);
    } else {
      process.stdout.write(`${values.write}: relay boot levels already current\n`);
    }
  }
}

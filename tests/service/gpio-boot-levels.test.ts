import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BEGIN, bootLevels, END, withBootLevels } from '../../scripts/gpio-boot-levels.js';

const dir = mkdtempSync(join(tmpdir(), 'boot-levels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PI_CONFIG = '# For more options see http://rpf.io/configtxt\ndtparam=audio=on\n\n[pi4]\narm_boost=1\n\n[all]\nenable_uart=1\n';

describe('relay boot levels in config.txt', () => {
  it('drives each relay to its inactive level: active-low high (dh), active-high low (dl)', () => {
    const lines = bootLevels({ relays: { entry: { line: 17, activeLow: true, pulseMs: 500 }, exit: { line: 27, activeLow: false, pulseMs: 500 } } });
    expect(lines.map((l) => l.split(/\s+#/)[0])).toEqual(['gpio=17=op,dh', 'gpio=27=op,dl']);
  });

  it('appends one block under [all], keeps everything else, and a re-run with new levels replaces it in place', () => {
    const once = withBootLevels(PI_CONFIG, ['gpio=17=op,dh']);
    expect(once.startsWith(PI_CONFIG)).toBe(true);
    expect(once.slice(PI_CONFIG.length)).toBe(`${BEGIN}\n[all]\ngpio=17=op,dh\n${END}\n`);
    expect(withBootLevels(once, ['gpio=17=op,dh'])).toBe(once);
    const changed = withBootLevels(`${once}# user line after\n`, ['gpio=17=op,dl', 'gpio=27=op,dl']);
    expect(changed).toBe(`${PI_CONFIG}${BEGIN}\n[all]\ngpio=17=op,dl\ngpio=27=op,dl\n${END}\n# user line after\n`);
    expect(changed.split(BEGIN).length).toBe(2);
  });

  it('the script writes the file from a config, idempotently', () => {
    const cfg = join(dir, 'config.yaml');
    writeFileSync(
      cfg,
      `gate: { id: g1, site: s1 }\nprivacy: { idHashKey: "${'07'.repeat(32)}" }\ngpio:\n  backend: auto\n  relays:\n    entry: { line: 17, activeLow: true }\n    exit: { line: 27 }\n`,
    );
    const txt = join(dir, 'config.txt');
    writeFileSync(txt, PI_CONFIG);
    const run = () => spawnSync(process.execPath, ['dist/scripts/gpio-boot-levels.js', '--config', cfg, '--write', txt], { encoding: 'utf8', timeout: 30_000 });
    const first = run();
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/relay boot levels written \(2\)/);
    const after = readFileSync(txt, 'utf8');
    expect(after).toMatch(/^gpio=17=op,dh .*\ngpio=27=op,dl /m);
    expect(run().stdout).toMatch(/already current/);
    expect(readFileSync(txt, 'utf8')).toBe(after);
  });
});

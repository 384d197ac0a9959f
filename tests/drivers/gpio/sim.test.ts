import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config.js';
import { buildGpio, SimInput } from '../../../src/drivers/gpio/index.js';
import { silentLogger } from '../../../src/log.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpio-sim-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const readTrace = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { t: number; line: string; active: boolean });

function simCfg(trace?: string) {
  return configSchema.shape.gpio.parse({
    backend: 'sim',
    trace,
    relays: { entry: { line: 17 }, exit: { line: 27 } },
    leds: { green: { line: 5 }, red: { line: 6 } },
    buzzer: { line: 13 },
    inputs: { passage: { line: 22 }, fireAlarm: { line: 24, activeLow: true } },
  });
}

describe('sim backend', () => {
  it('traces the safe state of relays first, then every change, written before set() returns', async () => {
    const trace = join(dir, 'sub', 'gpio.trace');
    let now = 5_000;
    const gpio = buildGpio(simCfg(trace), { log: silentLogger(), clock: () => now });
    await gpio.start();
    expect(readTrace(trace).map((r) => r.line)).toEqual(['entry', 'exit', 'green', 'red', 'buzzer']);
    now = 5_010;
    gpio.outputs.entry!.set(true);
    expect(readTrace(trace).at(-1)).toEqual({ t: 5_010, line: 'entry', active: true }); // no await in between
    gpio.outputs.entry!.set(true); // not a change: not traced
    now = 5_510;
    gpio.outputs.entry!.set(false);
    await gpio.stop();
    const recs = readTrace(trace);
    expect(recs.slice(5, 7)).toEqual([
      { t: 5_010, line: 'entry', active: true },
      { t: 5_510, line: 'entry', active: false },
    ]);
    expect(recs.slice(7).every((r) => !r.active)).toBe(true);
    expect(recs.length).toBe(12);
  });

  it('sim inputs report injected transitions only', async () => {
    let now = 1;
    const gpio = buildGpio(simCfg(), { log: silentLogger(), clock: () => now });
    await gpio.start();
    const fire = gpio.inputs.fireAlarm;
    expect(fire).toBeInstanceOf(SimInput);
    const seen: Array<[boolean, number]> = [];
    fire!.onChange((a, at) => seen.push([a, at]));
    (fire as SimInput).inject(false);
    now = 2;
    (fire as SimInput).inject(true);
    (fire as SimInput).inject(true);
    expect(seen).toEqual([[true, 2]]);
    expect(fire!.get()).toBe(true);
    await gpio.stop();
  });

  it('the trace survives SIGKILL, and the next start de-energizes first', async () => {
    const trace = join(dir, 'gpio.trace');
    const runAndKill = () =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(join(process.cwd(), 'node_modules/.bin/vite-node'), [join(__dirname, 'sim-child.ts'), trace], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error('child did not pulse within 20 s'));
        }, 20_000);
        child.stdout.on('data', (b: Buffer) => {
          if (b.toString().includes('PULSE')) child.kill('SIGKILL');
        });
        child.on('exit', (_code, signal) => {
          clearTimeout(timer);
          if (signal === 'SIGKILL') resolve();
          else reject(new Error(`child exited without being killed (${signal})`));
        });
      });
    await runAndKill();
    expect(readTrace(trace).map((r) => [r.line, r.active])).toEqual([
      ['entry', false],
      ['green', false],
      ['entry', true],
    ]);
    await runAndKill();
    expect(readTrace(trace).slice(3, 4).map((r) => [r.line, r.active])).toEqual([['entry', false]]);
  }, 45_000);
});

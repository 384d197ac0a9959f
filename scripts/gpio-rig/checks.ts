/**
 * Runs inside the GPIO rig's guest (a real 6.1 kernel with gpio-sim, see
 * scripts/gpio-rig/): every check goes through the daemon's own cdev backend
 * (buildGpio) or the daemon itself, and appends what it measured as one JSON
 * line to RESULTS. The host's test (tests/drivers/gpio/cdev-rig.test.ts)
 * judges the numbers; this file only measures.
 * Usage: node checks.js RESULTS SCRATCHDIR
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { GpioConfig } from '../../src/config.js';
import { loadCdevBinding } from '../../src/drivers/gpio/cdev-binding.js';
import { buildGpio, type GpioSet } from '../../src/drivers/gpio/index.js';
import { createLogger } from '../../src/log.js';
import { openDatabaseReadOnly } from '../../src/store/db.js';
import { openStore } from '../../src/store/index.js';

const [RESULTS, SCRATCH] = process.argv.slice(2) as [string, string];
const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const log = createLogger({ level: 'fatal' });
const binding = loadCdevBinding();
mkdirSync(SCRATCH, { recursive: true });

const record = (check: string, data: Record<string, unknown>): void => appendFileSync(RESULTS, `${JSON.stringify({ check, ...data })}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, ms: number, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}
const errInfo = (e: unknown) => ({ code: (e as { code?: string }).code, message: (e as Error).message });

interface SimChip {
  dev: string;
  label: string;
  line(n: number): string;
  value(n: number): string;
  pull(n: number, p?: 'pull-up' | 'pull-down'): string;
}

/** A gpio-sim chip made through configfs: /dev/gpiochipN and its sim_gpioN files. */
function makeChip(name: string, label: string, lines: number): SimChip {
  const cfg = `/sys/kernel/config/gpio-sim/${name}`;
  mkdirSync(`${cfg}/gpio-bank0`, { recursive: true });
  writeFileSync(`${cfg}/gpio-bank0/num_lines`, String(lines));
  writeFileSync(`${cfg}/gpio-bank0/label`, label);
  writeFileSync(`${cfg}/live`, '1');
  const devName = readFileSync(`${cfg}/dev_name`, 'utf8').trim();
  const chipName = readFileSync(`${cfg}/gpio-bank0/chip_name`, 'utf8').trim();
  const sys = `/sys/devices/platform/${devName}/${chipName}`;
  const line = (n: number) => `${sys}/sim_gpio${n}`;
  return {
    dev: `/dev/${chipName}`,
    label,
    line,
    value: (n) => readFileSync(`${line(n)}/value`, 'utf8').trim(),
    pull: (n, p) => {
      if (p) writeFileSync(`${line(n)}/pull`, p);
      return readFileSync(`${line(n)}/pull`, 'utf8').trim();
    },
  };
}

function gpioConfig(over: Partial<GpioConfig>): GpioConfig {
  return { backend: 'cdev', sysfsRoot: '/sys/class/gpio', relays: {}, leds: {}, inputs: {}, ...over } as GpioConfig;
}

/** Samples value files in another process until stopped; resolves with every value it saw per file. */
async function startSampler(files: string[]): Promise<{ stop(): Promise<{ sweeps: number; seen: Record<string, string[]> }> }> {
  const out = join(SCRATCH, `sampler-${Date.now()}.json`);
  const stopFile = `${out}.stop`;
  const child = spawn(process.execPath, [join(HERE, 'sampler.js'), out, stopFile, ...files], { stdio: 'inherit' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await until('the sampler to start', 60_000, () => existsSync(`${out}.started`));
  return {
    async stop() {
      writeFileSync(stopFile, '');
      await Promise.race([exited, sleep(30_000).then(() => child.kill('SIGKILL'))]);
      return JSON.parse(readFileSync(out, 'utf8'));
    },
  };
}

async function holder(chip: SimChip, offset: number, consumer: string, mode: 'in' | 'out-high' | 'out-low'): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(HERE, 'holder.js'), chip.dev, String(offset), consumer, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  await until(`holder of line ${offset}`, 60_000, () => {
    if (child.exitCode !== null) throw new Error(`holder exited ${child.exitCode}`);
    return out.includes('READY');
  });
  return child;
}
const killed = (c: ChildProcess, sig: NodeJS.Signals) =>
  new Promise<void>((r) => {
    if (c.exitCode !== null || c.signalCode !== null) return r();
    c.once('exit', () => r());
    c.kill(sig);
  });

async function check(name: string, fn: () => Promise<Record<string, unknown>>): Promise<void> {
  const t0 = Date.now();
  try {
    record(name, { ...(await fn()), ms: Date.now() - t0 });
  } catch (e) {
    record(name, { failed: errInfo(e), stack: (e as Error).stack, ms: Date.now() - t0 });
  }
}

// The Pi 4's label: found with no gpio.chip. A second chip carries a label of our own.
const pi = makeChip('pi', 'pinctrl-bcm2711', 54);
const rig = makeChip('rig', 'gate-rig', 54);

await check('start-safe', async () => {
  // The outside world holds each relay line at its INACTIVE level before start;
  // the sampler watches that it never shows the active level while the backend starts.
  pi.pull(17, 'pull-up'); // entry: active-low, inactive = high
  pi.pull(27, 'pull-down'); // exit: active-high, inactive = low
  const before = { entry: pi.value(17), exit: pi.value(27) };
  const sampler = await startSampler([`${pi.line(17)}/value`, `${pi.line(27)}/value`]);
  const gpio = buildGpio(gpioConfig({ relays: { entry: { line: 17, activeLow: true, pulseMs: 500 }, exit: { line: 27, activeLow: false, pulseMs: 500 } } }), { log });
  await gpio.start();
  await sleep(20);
  const s = await sampler.stop();
  const after = { entry: pi.value(17), exit: pi.value(27) };
  await gpio.stop();
  return { backend: gpio.backend, before, after, sweeps: s.sweeps, seenEntry: s.seen[`${pi.line(17)}/value`], seenExit: s.seen[`${pi.line(27)}/value`] };
});

await check('active-low', async () => {
  const gpio = buildGpio(gpioConfig({ relays: { entry: { line: 17, activeLow: true, pulseMs: 500 }, exit: { line: 27, activeLow: false, pulseMs: 500 } } }), { log });
  await gpio.start();
  const seq: Record<string, string> = {};
  const { entry, exit } = gpio.outputs as Required<GpioSet['outputs']>;
  entry.set(true);
  seq.entryActive = pi.value(17);
  entry.set(false);
  seq.entryInactive = pi.value(17);
  exit.set(true);
  seq.exitActive = pi.value(27);
  exit.set(false);
  seq.exitInactive = pi.value(27);
  const consumer = binding.lineInfo(pi.dev, 17).consumer;
  await gpio.stop();
  return { ...seq, consumer };
});

await check('bias', async () => {
  const gpio = buildGpio(
    gpioConfig({
      inputs: {
        passage: { line: 22, activeLow: false, debounceMs: 0, bias: 'pull-up' },
        door: { line: 23, activeLow: false, debounceMs: 0, bias: 'pull-down' },
        fireAlarm: { line: 26, activeLow: true, debounceMs: 0, bias: 'pull-up' },
      },
    }),
    { log },
  );
  pi.pull(22, 'pull-down');
  pi.pull(23, 'pull-up');
  pi.pull(26, 'pull-down');
  await gpio.start();
  const r = {
    passagePull: pi.pull(22),
    doorPull: pi.pull(23),
    firePull: pi.pull(26),
    passage: gpio.inputs.passage!.get(),
    door: gpio.inputs.door!.get(),
    fireAlarm: gpio.inputs.fireAlarm!.get(),
  };
  await gpio.stop();
  return r;
});

await check('edges', async () => {
  pi.pull(23, 'pull-down');
  pi.pull(25, 'pull-down');
  const gpio = buildGpio(
    gpioConfig({ inputs: { door: { line: 23, activeLow: false, debounceMs: 0 }, tamper: { line: 25, activeLow: true, debounceMs: 0 } } }),
    { log },
  );
  await gpio.start();
  const events: Array<{ line: string; active: boolean; atMs: number; heardMs: number; drivenMs: number }> = [];
  let drivenMs = 0;
  gpio.inputs.door!.onChange((active, atMs) => events.push({ line: 'door', active, atMs, heardMs: Date.now(), drivenMs }));
  gpio.inputs.tamper!.onChange((active, atMs) => events.push({ line: 'tamper', active, atMs, heardMs: Date.now(), drivenMs }));
  const initial = { door: gpio.inputs.door!.get(), tamper: gpio.inputs.tamper!.get() };
  for (const [n, p, count] of [
    [23, 'pull-up', 1],
    [23, 'pull-down', 2],
    [25, 'pull-up', 3],
    [25, 'pull-down', 4],
  ] as const) {
    drivenMs = Date.now();
    pi.pull(n, p);
    await until(`event ${count}`, 20_000, () => events.length >= count);
  }
  await sleep(200);
  await gpio.stop();
  return { initial, events };
});

await check('debounce', async () => {
  pi.pull(24, 'pull-down');
  // debounceMs 300 against a 5 ms glitch: margin for a guest whose vCPU the
  // busy host may pause (guest time runs on while it is paused).
  const gpio = buildGpio(gpioConfig({ inputs: { exitButton: { line: 24, activeLow: false, debounceMs: 300 } } }), { log });
  await gpio.start();
  const events: Array<{ active: boolean; atMs: number; heardMs: number }> = [];
  gpio.inputs.exitButton!.onChange((active, atMs) => events.push({ active, atMs, heardMs: Date.now() }));
  // A glitch far shorter than debounceMs: high, a busy-wait of 5 ms, low again.
  const g0 = process.hrtime.bigint();
  pi.pull(24, 'pull-up');
  while (process.hrtime.bigint() - g0 < 5_000_000n);
  pi.pull(24, 'pull-down');
  const glitchUs = Number(process.hrtime.bigint() - g0) / 1000;
  await sleep(1500);
  const afterGlitch = events.length;
  // A press held well past debounceMs: one event each way.
  const pressMs = Date.now();
  pi.pull(24, 'pull-up');
  await until('the press', 20_000, () => events.length >= afterGlitch + 1);
  await sleep(500);
  const releaseMs = Date.now();
  pi.pull(24, 'pull-down');
  await until('the release', 20_000, () => events.length >= afterGlitch + 2);
  await sleep(500);
  await gpio.stop();
  return { glitchUs, afterGlitch, events, pressMs, releaseMs };
});

await check('busy', async () => {
  const other = await holder(pi, 5, 'rig-holder', 'in');
  pi.pull(17, 'pull-up');
  const gpio = buildGpio(gpioConfig({ relays: { entry: { line: 17, activeLow: true, pulseMs: 500 } }, leds: { green: { line: 5, activeLow: false } } }), { log });
  let error: unknown;
  try {
    await gpio.start();
  } catch (e) {
    error = e;
  }
  const entryAfter = { value: pi.value(17), usedFlag: (binding.lineInfo(pi.dev, 17).flags & binding.FLAGS.USED) !== 0 };
  await killed(other, 'SIGTERM');
  return { error: error ? errInfo(error) : null, entryAfter };
});

await check('missing-chip', async () => {
  const tries: Record<string, unknown> = {};
  for (const chip of ['no-such-chip', '/dev/gpiochip99']) {
    const gpio = buildGpio(gpioConfig({ chip, relays: { entry: { line: 17, activeLow: true, pulseMs: 500 } } }), { log });
    try {
      await gpio.start();
      tries[chip] = { started: true };
      await gpio.stop();
    } catch (e) {
      tries[chip] = errInfo(e);
    }
  }
  const gpio = buildGpio(gpioConfig({ chip: 'gate-rig', relays: { entry: { line: 60, activeLow: false, pulseMs: 500 } } }), { log });
  try {
    await gpio.start();
    tries.badLine = { started: true };
  } catch (e) {
    tries.badLine = errInfo(e);
  }
  return tries;
});

await check('crash', async () => {
  // What a line does when its owner is SIGKILLed: gpio-sim's free() and gpiolib's release.
  const r: Record<string, unknown> = {};
  for (const [n, mode, pull] of [
    [6, 'out-high', 'pull-down'],
    [7, 'out-low', 'pull-up'],
  ] as const) {
    pi.pull(n, pull);
    const h = await holder(pi, n, 'rig-crash', mode);
    const held = { value: pi.value(n), consumer: binding.lineInfo(pi.dev, n).consumer };
    await killed(h, 'SIGKILL');
    await sleep(100);
    const info = binding.lineInfo(pi.dev, n);
    r[`${mode}-${pull}`] = {
      held,
      released: { value: pi.value(n), consumer: info.consumer, used: (info.flags & binding.FLAGS.USED) !== 0, output: (info.flags & binding.FLAGS.OUTPUT) !== 0 },
    };
  }
  return r;
});

await check('permission', async () => {
  // The chip owned by someone else, mode 0600, and a root process without the
  // capabilities that bypass file permissions: what a service user outside the
  // gpio group meets.
  const gone = makeChip('perm', 'perm-chip', 8);
  const { chmodSync, chownSync } = await import('node:fs');
  chownSync(gone.dev, 4321, 4321);
  chmodSync(gone.dev, 0o600);
  const code = `
    const { buildGpio } = await import(${JSON.stringify(new URL('../../src/drivers/gpio/index.js', import.meta.url).href)});
    const { createLogger } = await import(${JSON.stringify(new URL('../../src/log.js', import.meta.url).href)});
    const gpio = buildGpio({ backend: 'cdev', chip: ${JSON.stringify(gone.dev)}, sysfsRoot: '/sys/class/gpio', relays: { entry: { line: 1, activeLow: false, pulseMs: 500 } }, leds: {}, inputs: {} }, { log: createLogger({ level: 'fatal' }) });
    try { await gpio.start(); console.log(JSON.stringify({ started: true })); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const child = spawn('setpriv', ['--bounding-set=-dac_override,-dac_read_search,-fowner', process.execPath, '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  await new Promise((r) => child.once('exit', r));
  return { result: JSON.parse(out.trim().split('\n').pop() || '{}') };
});

await check('vanish', async () => {
  // The chip disappears under requested lines (configfs `live` 0 unregisters it).
  const chip = makeChip('gone', 'gone-chip', 8);
  const lines: string[] = [];
  const { Writable } = await import('node:stream');
  const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  const glog = createLogger({ level: 'error', destination: sink as never });
  const gpio = buildGpio(gpioConfig({ chip: 'gone-chip', relays: { entry: { line: 1, activeLow: false, pulseMs: 500 } }, inputs: { door: { line: 2, activeLow: false, debounceMs: 0 } } }), { log: glog });
  await gpio.start();
  writeFileSync('/sys/kernel/config/gpio-sim/gone/live', '0');
  let setError: unknown;
  try {
    gpio.outputs.entry!.set(true);
  } catch (e) {
    setError = e;
  }
  // Whether a poll on the request wakes up at removal depends on the kernel
  // (later kernels wake cdev pollers on unbind): recorded, judged by the test.
  let logged: string | undefined;
  const t0 = Date.now();
  while (!logged && Date.now() - t0 < 5_000) {
    logged = lines.find((l) => l.includes('gpio input'));
    await sleep(20);
  }
  let stopError: unknown;
  try {
    await gpio.stop();
  } catch (e) {
    stopError = e;
  }
  return { setError: setError ? errInfo(setError) : null, inputLogged: logged ? JSON.parse(logged) : null, stopError: stopError ? errInfo(stopError) : null };
});

// ---- the daemon itself ----
const tapDir = join(SCRATCH, 'tap');
mkdirSync(tapDir, { recursive: true });
const daemonConfig = (gpio: Record<string, unknown>, db: string) => ({
  gate: { id: 'rig', site: 's1' },
  storage: { path: db },
  privacy: { idHashKey: '07'.repeat(32), retention: { visitorDays: 30 } },
  readers: [{ id: 'entry', type: 'sim', direction: 'in', repeatMs: 0 }],
  gpio,
  access: { duplicateTapMs: 0, antiPassback: false },
  log: { level: 'info' },
});
function runDaemon(cfg: object, name: string): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const path = join(tapDir, `${name}.yaml`);
  writeFileSync(path, stringify(cfg));
  const child = spawn(process.execPath, ['--v8-pool-size=1', '--max-semi-space-size=8', join(ROOT, 'dist/src/main.js'), '--config', path], {
    cwd: tapDir,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NOTIFY_SOCKET: '' },
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}

await check('daemon-wrong-chip', async () => {
  const d = runDaemon(daemonConfig({ backend: 'cdev', chip: 'pinctrl-nope', relays: { entry: { line: 17, activeLow: true } } }, join(tapDir, 'wrong.db')), 'wrong');
  const code = await Promise.race([d.exited, sleep(120_000).then(() => (d.child.kill('SIGKILL'), 'timeout'))]);
  return { code, stderr: d.out().split('\n').filter((l) => l.startsWith('gate-controller:')) };
});

await check('tap', async () => {
  const db = join(tapDir, 'gate.db');
  const store = openStore({ path: db, synchronous: 'normal', gateId: 'rig' });
  store.whitelist.upsert(
    { people: [{ id: 'p-staff', kind: 'staff', name: 'Rig Staff' }], credentials: [{ key: 'card:04A1B2C3', personId: 'p-staff', status: 'active' }] },
    'central',
  );
  store.close();
  rig.pull(17, 'pull-up'); // active-low relay, inactive = high
  const valueFile = `${rig.line(17)}/value`;
  const sampler = await startSampler([valueFile]);
  const d = runDaemon(daemonConfig({ backend: 'cdev', chip: 'gate-rig', relays: { entry: { line: 17, activeLow: true, pulseMs: 500 } } }, db), 'tap');
  try {
    const readyLine = await until('ready', 180_000, () => {
      if (d.child.exitCode !== null) throw new Error(`daemon exited ${d.child.exitCode}: ${d.out()}`);
      return d.out().split('\n').find((l) => l.includes('"msg":"ready"'));
    });
    const startSeen = (await sampler.stop()).seen[valueFile];
    const ro = openDatabaseReadOnly(db);
    const rows = () => (ro.prepare("SELECT count(*) AS n FROM journal WHERE person_id = 'p-staff'").get() as { n: number }).n;
    const rowsBefore = rows();
    d.child.stdin!.write('04A1B2C3\n');
    const typedMs = Date.now();
    const buf = Buffer.alloc(8);
    const { openSync, readSync, closeSync } = await import('node:fs');
    const fd = openSync(valueFile, 'r');
    const read = () => buf.toString('utf8', 0, readSync(fd, buf, 0, 8, 0)).trim();
    const riseAt = await until('the relay to rise', 60_000, () => (read() === '0' ? Date.now() : undefined));
    const rowsAtRise = rows();
    let fallAt = 0;
    const deadline = Date.now() + 60_000;
    while (read() === '0' && Date.now() < deadline); // busy sampling: the pulse's length in ms
    fallAt = Date.now();
    closeSync(fd);
    ro.close();
    return {
      ready: JSON.parse(readyLine),
      startSeen,
      rowsBefore,
      rowsAtRise,
      riseAfterTypeMs: riseAt - typedMs,
      pulseMs: fallAt - riseAt,
      valueAfter: rig.value(17),
    };
  } finally {
    d.child.kill('SIGTERM');
    const code = await Promise.race([d.exited, sleep(60_000).then(() => (d.child.kill('SIGKILL'), 'killed'))]);
    record('tap-exit', { code, valueAfterStop: rig.value(17), out: d.out().split('\n').filter((l) => /"level":(40|50|60)/.test(l)) });
  }
});

record('done', {});
process.exit(0);

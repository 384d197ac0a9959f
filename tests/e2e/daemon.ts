/**
 * The real daemon for end-to-end tests: `node dist/src/main.js --config FILE`
 * with a sim reader reading the child's stdin, sim GPIO tracing every output
 * change to a file, the admin page on a free loopback port. Started and
 * stopped by the test, with bounded waits.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams, type SpawnOptionsWithoutStdio } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../helpers/until.js';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ID_HASH_KEY_HEX = '07'.repeat(32);

/** tsc emits even when another area has a type error mid-edit; the daemon only needs the JS. */
export function buildDist(): void {
  const r = spawnSync('flock', ['/tmp/build.lock', 'npx', 'tsc', '-p', 'tsconfig.json'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (!existsSync(join(ROOT, 'dist/src/main.js')) || !existsSync(join(ROOT, 'dist/src/admin/service.js'))) {
    throw new Error(`build failed: ${r.stdout}${r.stderr}`);
  }
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

export interface Daemon {
  dir: string;
  url: string;
  dbPath: string;
  /** Everything the daemon printed (pino JSON lines). */
  output(): string;
  /** Type one line on the sim reader. */
  type(line: string): void;
  adminPassword(): string;
  traceLines(): Array<{ t: number; line: string; active: boolean }>;
  stop(): Promise<number | null>;
}

export async function startDaemon(
  opts: {
    beforeStart?: (dbPath: string) => void | Promise<void>;
    /** More readers after the sim `entry` reader (e.g. SAM readers on a pty). */
    readers?: Array<Record<string, unknown>>;
    /** An `mqtt` config section: the daemon syncs with this broker. */
    mqtt?: Record<string, unknown>;
    /** Serve the page over HTTPS with these PEM files (admin.tls). */
    tls?: { cert: string; key: string };
    /** Run under this umask (a shell starts the daemon), e.g. 0o022 as a hand-started process has. */
    umask?: number;
  } = {},
): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'gc-e2e-'));
  const port = await freePort();
  const dbPath = join(dir, 'gate.db');
  const config = {
    gate: { id: 'e2e', site: 's1' },
    storage: { path: dbPath },
    privacy: { idHashKey: ID_HASH_KEY_HEX, retention: { visitorDays: 30 } },
    readers: [{ id: 'entry', type: 'sim', direction: 'in', repeatMs: 0 }, ...(opts.readers ?? [])],
    ...(opts.mqtt ? { mqtt: opts.mqtt } : {}),
    gpio: {
      backend: 'sim',
      trace: join(dir, 'gpio.trace'),
      relays: { entry: { line: 17, pulseMs: 500 }, exit: { line: 27, pulseMs: 500 } },
      leds: { green: { line: 5 }, red: { line: 6 } },
      inputs: { passage: { line: 22 }, door: { line: 23 } },
    },
    access: { duplicateTapMs: 0, antiPassback: false },
    admin: { listen: `127.0.0.1:${port}`, ...(opts.tls ? { tls: opts.tls } : {}) },
    log: { level: 'info' },
  };
  const cfgPath = join(dir, 'config.yaml');
  writeFileSync(cfgPath, stringify(config));
  await opts.beforeStart?.(dbPath);

  const argv = ['dist/src/main.js', '--config', cfgPath];
  const spawnOpts: SpawnOptionsWithoutStdio = { cwd: ROOT, stdio: 'pipe', env: { ...process.env, NOTIFY_SOCKET: '' } };
  // With a umask: through sh, which sets it and execs node (the pid stays the daemon's).
  const child: ChildProcessWithoutNullStreams =
    opts.umask === undefined
      ? spawn(process.execPath, argv, spawnOpts)
      : spawn('/bin/sh', ['-c', `umask ${opts.umask.toString(8).padStart(4, '0')} && exec "$0" "$@"`, process.execPath, ...argv], spawnOpts);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

  const started = () => {
    if (child.exitCode !== null) throw new Error(`daemon exited ${child.exitCode}:\n${out}`);
    return out.includes('admin page listening');
  };
  try {
    await until(started, { what: 'the daemon to start', timeoutMs: 30_000, intervalMs: 50, diag: () => out });
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw err;
  }

  return {
    dir,
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    dbPath,
    output: () => out,
    type: (line) => child.stdin.write(`${line}\n`),
    adminPassword: () => {
      const line = out.split('\n').find((l) => l.includes('first start: created admin account'));
      const file = line ? (JSON.parse(line) as { file: string }).file : join(dir, 'admin-initial-password');
      return /password: (\S+)/.exec(readFileSync(file, 'utf8'))![1]!;
    },
    traceLines: () => {
      const p = join(dir, 'gpio.trace');
      if (!existsSync(p)) return [];
      return readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

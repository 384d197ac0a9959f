/**
 * A real mosquitto 2 broker for tests: generated config, loopback listener
 * on a free port, temp persistence dir, bounded start (waits for the port)
 * and bounded stop (SIGTERM, then SIGKILL). aedes cannot be used: it does
 * not speak MQTT 5 (LIBRARIES.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { stopChild, untilReady } from './until.js';

export interface MosquittoOptions {
  /** Keep retained messages and sessions on disk across restart() (default true). */
  persistence?: boolean;
  /** Seconds between persistence saves; a kill() loses what came after the last one (default 1). */
  autosaveIntervalS?: number;
  /** Extra config lines (e.g. `max_queued_messages 100`), after the loopback listener. */
  extra?: string[];
  /** Config lines before everything else (e.g. `per_listener_settings true`). */
  prelude?: string[];
  /** Fixed port instead of a free one. */
  port?: number;
}

export interface Mosquitto {
  url: string;
  port: number;
  dir: string;
  /** Graceful stop (SIGTERM, bounded) and removal of the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. The data dir stays for restart(). */
  kill(): Promise<void>;
  /** Stop gracefully if running, then start again on the same port and dir. */
  restart(): Promise<void>;
  /** The broker's own log (for failing tests). */
  log(): string;
  /** The broker's pid while it runs (CPU accounting in benches). */
  pid(): number | undefined;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'gc-mosq-'));
  const port = opts.port ?? (await freePort());
  const persistence = opts.persistence ?? true;
  const conf = join(dir, 'mosquitto.conf');
  const logFile = join(dir, 'mosquitto.log');
  writeFileSync(
    conf,
    [
      ...(opts.prelude ?? []),
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      // Run as root, mosquitto drops to user 'mosquitto', which cannot write our temp dir.
      `user ${userInfo().username}`,
      `persistence ${persistence ? 'true' : 'false'}`,
      `persistence_location ${dir}/`,
      `autosave_interval ${opts.autosaveIntervalS ?? 1}`,
      `log_dest file ${logFile}`,
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      ...(opts.extra ?? []),
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;

  async function launch(): Promise<void> {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    const c = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child = c;
    const listening = async () => {
      if (c.exitCode !== null) throw new Error(`mosquitto exited with ${c.exitCode}: ${stderr}`);
      return portOpen(port);
    };
    await untilReady(c, listening, { what: `mosquitto to listen on ${port}`, timeoutMs: START_TIMEOUT_MS, intervalMs: 50, diag: () => stderr });
  }

  async function terminate(signal: NodeJS.Signals): Promise<void> {
    const c = child;
    child = undefined;
    if (!c) return;
    await stopChild(c, signal, STOP_TIMEOUT_MS);
  }

  await launch();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    async stop() {
      await terminate('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await terminate('SIGKILL');
    },
    async restart() {
      await terminate('SIGTERM');
      await launch();
    },
    pid: () => child?.pid,
    log() {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
}

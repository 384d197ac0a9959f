/**
 * The real daemon as a child process, for end-to-end tests and benches:
 * `node dist/src/main.js --config FILE`, built by `npm run build`.
 *
 *   const d = startDaemon({ configPath });
 *   const ms = await d.ready;   // ms from spawn to pino's "ready" line
 *   …
 *   await d.stop();             // SIGTERM, SIGKILL after stopMs
 *
 * Everything is bounded: `ready` rejects (and the child is killed) after
 * `readyTimeoutMs` or when the daemon exits first; `stop()` escalates to
 * SIGKILL; `kill()` waits at most 5 s for the exit. The same path works from
 * dist/bench/lib (benches) and from bench/lib run by vitest (tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../../src/daemon/runtime-flags.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root, whether this file runs as dist/bench/lib/daemon.js or bench/lib/daemon.ts. */
export const ROOT = here.endsWith(join('dist', 'bench', 'lib')) ? join(here, '../../..') : join(here, '../..');
export const DAEMON_MAIN = join(ROOT, 'dist/src/main.js');

export interface StartDaemonOptions {
  configPath: string;
  /** Added to (and overriding) this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Default 20 s: a cold start on a busy 2-core machine. */
  readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace for stop(); default 10 s (the daemon's own shutdown bound). */
  stopMs?: number;
}

export interface Daemon {
  child: ChildProcess;
  /** Milliseconds from spawn to the pino "ready" log line. */
  ready: Promise<number>;
  /** The last 64 KiB of stdout + stderr (pino JSON lines), for failure messages. */
  output(): string;
  /** Graceful stop: SIGTERM, then SIGKILL after stopMs. Resolves with the exit code (null if signalled). */
  stop(): Promise<number | null>;
  /** SIGKILL, as a power cut would; resolves once the process is gone (bounded). */
  kill(): Promise<void>;
}

const KEEP = 64 * 1024;

export function startDaemon(opts: StartDaemonOptions): Daemon {
  if (!existsSync(DAEMON_MAIN)) throw new Error(`${DAEMON_MAIN} is missing: run \`npm run build\` first`);
  const t0 = performance.now();
  const child = spawn(process.execPath, [...NODE_FLAGS, DAEMON_MAIN, '--config', opts.configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-KEEP);
  };
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const gone = () => child.exitCode !== null || child.signalCode !== null;

  const ready = new Promise<number>((resolve, reject) => {
    let partial = '';
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      settle(() => reject(new Error(`daemon not ready within ${opts.readyTimeoutMs ?? 20_000} ms:\n${out.slice(-3000)}`)));
      child.kill('SIGKILL');
    }, opts.readyTimeoutMs ?? 20_000);
    child.stdout?.on('data', (b: Buffer) => {
      keep(b);
      if (settled) return;
      partial += b.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (isReadyLine(line)) settle(() => resolve(performance.now() - t0));
      }
    });
    void exited.then((code) =>
      settle(() => reject(new Error(`daemon exited (${code ?? child.signalCode}) before ready:\n${out.slice(-3000)}`))),
    );
  });
  // A caller that only stops the daemon must not see an unhandled rejection.
  ready.catch(() => {});

  const waitExit = async (ms: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
    const done = await Promise.race([exited.then(() => true), timeout]);
    clearTimeout(timer);
    return done;
  };

  return {
    child,
    ready,
    output: () => out,
    async stop() {
      if (!gone()) {
        child.kill('SIGTERM');
        if (!(await waitExit(opts.stopMs ?? 10_000))) {
          child.kill('SIGKILL');
          await waitExit(5_000);
        }
      }
      return child.exitCode;
    },
    async kill() {
      if (gone()) return;
      child.kill('SIGKILL');
      await waitExit(5_000);
    },
  };
}

function isReadyLine(line: string): boolean {
  if (!line.includes('"ready"')) return false;
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg === 'ready';
  } catch {
    return false;
  }
}

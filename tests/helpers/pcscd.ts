/**
 * Starts Debian's pcscd in the foreground for one test file, with the
 * vsmartcard-vpcd driver configured by /etc/reader.conf.d/vpcd. pcscd, its
 * socket and the vpcd port 35963 are machine-wide: only one test file may
 * use this helper, and it refuses to start over a pcscd it did not start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

export const PCSCD_SOCKET = process.env.PCSCLITE_CSOCK_NAME ?? '/run/pcscd/pcscd.comm';
export const VPCD_PORT = 35963;

export interface Pcscd {
  readonly pid: number;
  /** pcscd's own output (foreground logs), for failure messages. */
  output(): string;
  /** SIGTERM (or the given signal), then SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

export async function startPcscd(timeoutMs = 10_000): Promise<Pcscd> {
  if (await socketAnswers(PCSCD_SOCKET, 300)) {
    throw new Error(`a pcscd not started by this test already answers on ${PCSCD_SOCKET}`);
  }
  const child = spawn('pcscd', ['--foreground', '--info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', stopMs = 5_000) => {
    if (exited) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), stopMs);
    await exit;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`pcscd exited at start:\n${out}`);
    if ((await socketAnswers(PCSCD_SOCKET, 300)) && vpcdListening()) {
      return { pid: child.pid ?? -1, output: () => out, stop };
    }
    await sleep(50);
  }
  await stop('SIGKILL');
  throw new Error(`pcscd not ready within ${timeoutMs} ms:\n${out}`);
}

/** The vpcd driver listens once pcscd has loaded it (state 0A = LISTEN). */
function vpcdListening(): boolean {
  const port = VPCD_PORT.toString(16).toUpperCase().padStart(4, '0');
  const text = readFileSync('/proc/net/tcp', 'utf8') + readFileSync('/proc/net/tcp6', 'utf8');
  return text.split('\n').some((l) => {
    const f = l.trim().split(/\s+/);
    return f[1]?.endsWith(`:${port}`) && f[3] === '0A';
  });
}

function socketAnswers(path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

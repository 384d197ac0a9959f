/**
 * A pseudo-terminal pair from socat standing in for a USB serial reader:
 * the driver opens `readerPath`, the test writes what the reader would send
 * on `simPath`. Killing socat makes both ptys vanish, as an unplugged USB
 * adapter does; starting it again with the same link paths is the replug.
 * Used by the tests, the benches and `npm start`'s simulated SAM readers.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';

export interface PtyPair {
  readonly readerPath: string;
  readonly simPath: string;
  /** Write bytes as the reader hardware would send them. */
  send(data: string | Buffer): Promise<void>;
  /** Kill socat (the "unplug"); bounded: SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export async function startPtyPair(dir: string, timeoutMs = 5_000, names: { reader: string; sim: string } = { reader: 'reader', sim: 'sim' }): Promise<PtyPair> {
  const readerPath = join(dir, names.reader);
  const simPath = join(dir, names.sim);
  const child = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${readerPath}`, `pty,raw,echo=0,link=${simPath}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (b: Buffer) => {
    log = (log + b.toString()).slice(-5_000);
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  let sim: FileHandle | undefined;
  const stop = async (stopMs = 3_000) => {
    await sim?.close().catch(() => {});
    sim = undefined;
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopMs);
    await exit;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(readerPath) && existsSync(simPath) && /starting data transfer loop/.test(log))) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`socat pty pair not ready:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  sim = await open(simPath, constants.O_WRONLY | constants.O_NOCTTY);
  return {
    readerPath,
    simPath,
    async send(data) {
      if (!sim) throw new Error('pty pair stopped');
      await sim.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    },
    stop,
  };
}

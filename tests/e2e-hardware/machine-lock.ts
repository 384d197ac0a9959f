/**
 * A machine-wide lock for tests that use machine-global resources (pcscd,
 * its socket): test files run in parallel workers, so each
 * such file holds this lock from beforeAll to afterAll.
 *
 * The lock is flock(1) on a file, held by a child `flock … cat`: it is
 * released when we close the child's stdin, and ALSO when this process dies
 * in any way (the pipe closes, cat exits), so a crashed test never leaves a
 * stale lock behind, unlike a pid or marker file.
 */
import { spawn } from 'node:child_process';

export const PCSCD_LOCK = '/tmp/gate-pcscd.lock';

export interface MachineLock {
  release(): Promise<void>;
}

export function acquireLock(path: string, waitMs = 150_000): Promise<MachineLock> {
  const child = spawn('flock', ['-w', String(Math.ceil(waitMs / 1000)), path, 'sh', '-c', 'echo locked; exec cat'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const release = async (): Promise<void> => {
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout.on('data', (b: Buffer) => {
      if (b.toString().includes('locked')) resolve({ release });
    });
    child.once('error', reject);
    void exited.then(() => reject(new Error(`could not take ${path} within ${waitMs} ms (flock exit ${child.exitCode}) ${err}`)));
  });
}

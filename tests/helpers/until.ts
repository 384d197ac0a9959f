/**
 * The one bounded wait of the test suite: poll `cond` until it returns a
 * truthy value (which is returned), or fail after `timeoutMs` naming what was
 * awaited. Tests wait on the condition they need, never on a guessed sleep.
 * `waitExit` is the same for a child process's exit, on its event.
 */
import type { ChildProcess } from 'node:child_process';

export interface UntilOptions {
  /** What is awaited, for the failure message. */
  what?: string;
  /** Give up after this long (default 5 s). */
  timeoutMs?: number;
  /** Poll period (default 20 ms); a costly condition (a file read, a query) polls slower. */
  intervalMs?: number;
  /** Extra text for the failure message (the daemon's output, say). */
  diag?: () => string;
}

type Falsy = undefined | null | false | 0 | '';

export async function until<T>(cond: () => T | Promise<T>, opts: UntilOptions | number = {}): Promise<Exclude<T, Falsy>> {
  const { what = 'condition', timeoutMs = 5_000, intervalMs = 20, diag } = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as Exclude<T, Falsy>;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${diag ? `\n${diag().slice(-3000)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Wait (bounded) until `cond` holds for a daemon just spawned; a daemon that never got ready is SIGKILLed before the error is thrown. */
export async function untilReady<T>(child: ChildProcess, cond: () => T | Promise<T>, opts: UntilOptions): Promise<void> {
  try {
    await until(cond, opts);
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw err;
  }
}

/** Send `signal` and wait up to `ms` for the exit; a child still there then is SIGKILLed and waited for again. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, ms: number): Promise<void> {
  child.kill(signal);
  if (await waitExit(child, ms)) return;
  child.kill('SIGKILL');
  await waitExit(child, ms);
}

/** Whether `child` exited (or had already) within `ms`. */
export function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * The bench's side of a simulated SAM module running in its own process
 * (sam-module-process.ts) on the far end of a socat pty pair of its own.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startPtyPair } from './pty.js';
import type { ModuleMsg } from './sam-module-process.js';
import type { CardFields } from '../../src/drivers/readers/sam/base-info.js';

export type TapMsg = Extract<ModuleMsg, { type: 'tap' }>;

export interface ModuleHandle {
  /** The host's end of the line. */
  readerPath: string;
  arm(card: CardFields): void;
  remove(): void;
  /** Forget what the module reported so far. */
  clear(): void;
  /** The next message `want` accepts (earlier ones are dropped), within `timeoutMs`. */
  next(want: (m: ModuleMsg) => boolean, timeoutMs: number): Promise<ModuleMsg>;
  nextTap(timeoutMs?: number): Promise<TapMsg>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startModuleProcess(dir: string, baudRate: number, name = 'sam'): Promise<ModuleHandle> {
  const pair = await startPtyPair(dir, 5_000, { reader: `${name}-reader`, sim: `${name}-module` });
  const child = fork(fileURLToPath(new URL('./sam-module-process.js', import.meta.url)), [pair.simPath, String(baudRate)], {
    execArgv: ['--v8-pool-size=1'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: ModuleMsg[] = [];
  let notify: (() => void) | undefined;
  child.on('message', (m: ModuleMsg) => {
    messages.push(m);
    notify?.();
  });
  const next = async (want: (m: ModuleMsg) => boolean, timeoutMs: number): Promise<ModuleMsg> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = messages.findIndex(want);
      if (i >= 0) return messages.splice(0, i + 1).pop()!;
      if (Date.now() > end) throw new Error('simulated module did not answer in time');
      await new Promise<void>((r) => {
        notify = r;
        setTimeout(r, 50);
      });
    }
  };
  const stop = async () => {
    if (child.connected) child.send({ stop: true });
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await pair.stop();
  };
  try {
    await next((m) => m.type === 'ready', 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    readerPath: pair.readerPath,
    arm: (card) => child.send({ arm: card }),
    remove: () => child.send({ remove: true }),
    clear: () => void (messages.length = 0),
    next,
    nextTap: async (timeoutMs = 5_000) => (await next((m) => m.type === 'tap', timeoutMs)) as TapMsg,
    stop,
  };
}

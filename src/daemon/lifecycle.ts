/**
 * Start components in order, stop them in reverse, each stop in its own
 * try/catch so one failing component never keeps the others energized.
 * One shutdown path for SIGTERM, SIGINT and uncaught errors, raced by a
 * timeout; a second signal exits at once.
 */
import type { Logger } from '../log.js';

export interface Component {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class Lifecycle {
  private readonly started: Component[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  async startAll(components: Component[]): Promise<void> {
    for (const c of components) {
      await c.start();
      this.started.push(c);
      this.log.debug({ component: c.name }, 'started');
    }
  }

  /** Idempotent: later callers wait for the first stop. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const c of this.started.splice(0).reverse()) {
        try {
          await c.stop();
          this.log.debug({ component: c.name }, 'stopped');
        } catch (err) {
          this.log.error({ err, component: c.name }, 'stop failed');
        }
      }
    })();
    return this.stopping;
  }
}

export interface ShutdownOptions {
  log: Logger;
  timeoutMs: number;
  /** Runs once; its rejection is logged. */
  shutdown: (reason: string) => Promise<void>;
  exit?: (code: number) => void;
  proc?: NodeJS.Process;
}

/** Wire SIGTERM/SIGINT/uncaught errors to one shutdown; returns a function that unhooks. */
export function installShutdown(opts: ShutdownOptions): () => void {
  const proc = opts.proc ?? process;
  const exit = opts.exit ?? ((code: number) => proc.exit(code));
  let inProgress = false;

  const run = (reason: string, code: number): void => {
    if (inProgress) {
      opts.log.warn({ reason }, 'second signal: exiting now');
      exit(code || 1);
      return;
    }
    inProgress = true;
    opts.log.info({ reason }, 'shutting down');
    const timer = setTimeout(() => {
      opts.log.error({ timeoutMs: opts.timeoutMs }, 'shutdown timed out');
      exit(code || 1);
    }, opts.timeoutMs);
    timer.unref();
    opts
      .shutdown(reason)
      .then(
        () => exit(code),
        (err: unknown) => {
          opts.log.error({ err }, 'shutdown failed');
          exit(code || 1);
        },
      )
      .finally(() => clearTimeout(timer));
  };

  const onTerm = () => run('SIGTERM', 0);
  const onInt = () => run('SIGINT', 0);
  const onError = (err: unknown) => {
    opts.log.fatal({ err }, 'uncaught error');
    run('uncaught error', 1);
  };
  proc.on('SIGTERM', onTerm);
  proc.on('SIGINT', onInt);
  proc.on('uncaughtException', onError);
  proc.on('unhandledRejection', onError);
  return () => {
    proc.off('SIGTERM', onTerm);
    proc.off('SIGINT', onInt);
    proc.off('uncaughtException', onError);
    proc.off('unhandledRejection', onError);
  };
}

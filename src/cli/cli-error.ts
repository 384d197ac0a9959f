/**
 * The one error type gatectl commands throw for anything the operator must
 * fix: bad arguments, a bad whitelist row, a broker that does not answer.
 * `code` is stable (tests and scripts match on it, never on the message).
 */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Process exit status; 2 = usage error, 1 = anything else. */
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** Where a command writes: stdout/stderr in gatectl, buffers in tests. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly. */
  signal?: AbortSignal;
}

export function processIO(signal?: AbortSignal): CliIO {
  return {
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
    ...(signal ? { signal } : {}),
  };
}

/**
 * pino logger factory. JSON lines to stdout (journald keeps them under
 * systemd). Components get a child logger through their deps, never a global.
 * Personal data never enters a log line: no names, phones or clear ID numbers;
 * credentials only in their masked display form.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export function createLogger(opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { svc: 'gate-controller' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Belt and braces: should a field with one of these names ever reach a
      // log call, it is censored rather than written.
      redact: {
        paths: ['name', '*.name', 'phone', '*.phone', 'idNumber', '*.idNumber', 'password', '*.password'],
        censor: '[redacted]',
      },
    },
    opts.destination,
  );
}

/** A logger that writes nothing: for tests and benches. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

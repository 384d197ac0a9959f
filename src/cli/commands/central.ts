/**
 * `gatectl central --db PATH [--group NAME]`: run the reference collector
 * until SIGINT/SIGTERM. Logs are pino JSON lines on stdout.
 */
import { createLogger } from '../../log.js';
import { isPostgresUrl, openCollectorStore, type CollectorStore } from '../../store/central/collector-store.js';
import { BROKER_HELP, BROKER_OPTIONS, SIGNING_OPTIONS, brokerOptions, signingKey } from '../broker-options.js';
import { IDENT, parseCommandArgs, requireStr, secondsOpt, str, wantsHelp } from '../args.js';
import { CliError } from '../cli-error.js';
import { Collector } from '../central/collector.js';
import type { GatectlCommand } from '../command.js';

const help = `Usage: gatectl central --db PATH|postgres://… [--group NAME] [options]

Reference collector: stores every gate's events in SQLite or PostgreSQL
(idempotent by gate and seq), verifies each gate's hash chain as events arrive, acks the highest
contiguous seq (signed), asks a gate to replay a gap that stops moving,
stores and acks visitor registrations, records gate statuses.
Runs until SIGINT or SIGTERM.

  --db PATH        the collector's SQLite file (not a gate's): one machine
  --db postgres://user:password@host:5432/dbname
                   PostgreSQL: collectors on several hosts share one database
                   (the schema is created and migrated on start)
  --group NAME     shared-subscription group (default "central"): collectors of
                   one group share the load and MUST use the same database
  --gap-grace S    seconds a gap may stay still before a replay is asked (default 10)
  --log-level L    info (default), debug, warn…

${BROKER_HELP}`;

export const centralCommand: GatectlCommand = {
  name: ['central'],
  summary: 'run the reference collector (ingest, verify, ack, store)',
  help,
  async run(argv, io) {
    const p = parseCommandArgs(
      argv,
      { ...BROKER_OPTIONS, ...SIGNING_OPTIONS, db: { type: 'string' }, group: { type: 'string' }, 'gap-grace': { type: 'string' }, 'log-level': { type: 'string' } },
      help,
    );
    if (wantsHelp(p)) return (io.out(help), 0);
    const dbPath = requireStr(p, 'db');
    const group = str(p, 'group') ?? 'central';
    if (!IDENT.test(group)) throw new CliError('BAD_ARGS', `--group: expected 1-64 letters, digits, _ or -, got "${group}"`, 2);
    const broker = brokerOptions(p);
    const signer = signingKey(p);
    const gapGraceMs = secondsOpt(p, 'gap-grace', 10);
    const log = createLogger({ level: str(p, 'log-level') ?? 'info' }).child({ component: 'central' });
    const shown = redactUrl(dbPath);
    let store: CollectorStore;
    try {
      store = await openCollectorStore(dbPath);
    } catch (cause) {
      throw new CliError('DB_UNUSABLE', `--db ${shown}: ${(cause as Error).message}`, 1, { cause });
    }
    const collector = new Collector({ store, broker, signer, log, group, gapGraceMs });
    const stopped = new Promise<void>((resolve) => {
      if (io.signal?.aborted) resolve();
      io.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    try {
      await Promise.race([collector.start(), stopped]);
      if (!io.signal?.aborted) io.err(`collector running: group ${group}, db ${shown}`);
      await stopped;
    } finally {
      await collector.stop();
      await store.close();
      log.info('collector stopped');
    }
    return 0;
  },
};

/** A database argument fit for a message: a postgres:// URL without its password. */
export function redactUrl(db: string): string {
  if (!isPostgresUrl(db)) return db;
  try {
    const u = new URL(db);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

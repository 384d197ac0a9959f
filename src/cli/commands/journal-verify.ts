/**
 * `gatectl journal verify --db PATH`: walk a gate's hash chain (from its
 * purge checkpoint, if any) and name the first broken seq. Read-only: the
 * database is opened without write access and never migrated.
 * Exit 0 when the chain holds, 1 when it is broken, 2 when the file cannot be read.
 */
import { openDatabaseReadOnly, StoreError, verifyChain } from '../../store/index.js';
import { isCentralStore, verifyCentralDb } from '../../store/central/central.js';
import { isPostgresUrl, openCollectorStore } from '../../store/central/collector-store.js';
import type { VerifyResult } from '../../store/journal.js';
import { redactUrl } from './central.js';
import { parseCommandArgs, requireStr, wantsHelp } from '../args.js';
import { CliError } from '../cli-error.js';
import type { GatectlCommand } from '../command.js';

const help = `Usage: gatectl journal verify --db PATH|postgres://…

Walk the journal's hash chain (RFC 8785 canonical JSON, SHA-256) from the
first event or the last retention-purge checkpoint, and report the first
broken seq: an edited event, an edited hash, a deleted event.
Works on a running gate's database (read-only, WAL), and on the central
collector's store (gatectl central --db), one line per gate.

  --db PATH   the gate database (storage.path in the gate's config) or the collector's
              (a SQLite file, or the postgres:// URL of a collector store)

Exit status: 0 chain holds, 1 chain broken, 2 database missing or unreadable.`;

export const journalVerifyCommand: GatectlCommand = {
  name: ['journal', 'verify'],
  summary: 'verify the journal hash chain of a gate database or of the collector\'s store',
  help,
  async run(argv, io) {
    const p = parseCommandArgs(argv, { db: { type: 'string' } }, help);
    if (wantsHelp(p)) return (io.out(help), 0);
    const path = requireStr(p, 'db');
    if (isPostgresUrl(path)) {
      let store;
      try {
        store = await openCollectorStore(path, { mustExist: true, poolSize: 1 });
      } catch (cause) {
        throw new CliError('DB_UNREADABLE', `cannot read database ${redactUrl(path)}: ${(cause as Error).message}`, 2, { cause });
      }
      try {
        return printCentral(await store.verifyAll(), io.out);
      } finally {
        await store.close();
      }
    }
    let db;
    try {
      db = openDatabaseReadOnly(path);
    } catch (cause) {
      throw new CliError((cause as StoreError).code ?? 'DB_UNREADABLE', `cannot read database: ${(cause as Error).message}`, 2, { cause });
    }
    try {
      // The central collector's store (gatectl central) holds one chain per gate.
      if (isCentralStore(db)) {
        return printCentral(verifyCentralDb(db), io.out);
      }
      const r = verifyChain(db);
      const span = r.fromSeq !== undefined ? ` (seq ${r.fromSeq}..${r.toSeq})` : '';
      if (r.ok) {
        io.out(`ok: ${r.checked} events verified${span}`);
        return 0;
      }
      io.out(`broken at seq ${r.firstBrokenSeq}: ${r.reason}`);
      if (r.checked) io.out(`(${r.checked} events before it verified${span})`);
      return 1;
    } catch (cause) {
      if (cause instanceof StoreError) throw new CliError(cause.code, `${path}: ${cause.message}`, 2, { cause });
      const code = (cause as { code?: string }).code;
      if (typeof code === 'string' && code.startsWith('SQLITE_')) {
        throw new CliError('DB_UNREADABLE', `${path}: ${(cause as Error).message}`, 2, { cause });
      }
      throw cause;
    } finally {
      db.close();
    }
  },
};

/** One line per gate of a collector's store; exit 0 when every chain holds. */
function printCentral(results: Array<{ gate: string; result: VerifyResult }>, out: (line: string) => void): number {
  if (results.length === 0) out('ok: no events stored yet');
  for (const { gate, result: r } of results) {
    out(r.ok ? `${gate}: ok: ${r.checked} events verified` : `${gate}: broken at seq ${r.firstBrokenSeq}: ${r.reason}`);
  }
  return results.every((x) => x.result.ok) ? 0 : 1;
}

/**
 * `gatectl fleet --db PATH|postgres://…`: one row per gate from the retained
 * statuses and the collector's store; exit 3 when any gate needs attention.
 */
import { openCollectorStore, type CollectorStore, type StoredAnomaly } from '../../store/central/collector-store.js';
import { intOpt, parseCommandArgs, requireStr, str, wantsHelp } from '../args.js';
import { CliError } from '../cli-error.js';
import type { GatectlCommand } from '../command.js';
import { fleetRows, formatCsv, formatTable, sortRows, SORT_KEYS, type SortKey } from '../central/fleet-view.js';
import { redactUrl } from './central.js';

const help = `Usage: gatectl fleet --db PATH|postgres://… [--format table|csv|json] [--sort KEY] [--desc]
                    [--backlog N] [--whitelist-version V]

One row per gate, from the statuses the gates retain and the collector's store
(gatectl central --db): site, gate, online, mode, version, whitelist version,
outbox pending, seconds since central last took in one of its events, clock
synced, chain state (ok / broken at seq N / purged before collected), the
highest seq stored without a gap, and what needs attention.

  --format F            table (default), csv or json
  --sort KEY            ${SORT_KEYS.join(', ')} (default: site, then gate)
  --desc                reverse the sort
  --backlog N           outbox pending above N needs attention (default 1000)
  --whitelist-version V the published whitelist version (default: the highest
                        any gate of the same site reports)

Needs attention: offline (or no status yet), broken chain, backlog over the
threshold, whitelist behind.
Exit status: 0 all gates fine, 3 at least one needs attention, 1 the store cannot be read.`;

export const fleetCommand: GatectlCommand = {
  name: ['fleet'],
  summary: 'one row per gate (online, versions, backlog, chain state); exit 3 when any needs attention',
  help,
  async run(argv, io) {
    const p = parseCommandArgs(
      argv,
      { db: { type: 'string' }, format: { type: 'string' }, sort: { type: 'string' }, desc: { type: 'boolean' }, backlog: { type: 'string' }, 'whitelist-version': { type: 'string' } },
      help,
    );
    if (wantsHelp(p)) return (io.out(help), 0);
    const dbArg = requireStr(p, 'db');
    const format = str(p, 'format') ?? 'table';
    if (!['table', 'csv', 'json'].includes(format)) throw new CliError('BAD_ARGS', `--format: expected table, csv or json, got "${format}"`, 2);
    const sort = (str(p, 'sort') ?? 'site') as SortKey;
    if (!SORT_KEYS.includes(sort)) throw new CliError('BAD_ARGS', `--sort: expected one of ${SORT_KEYS.join(', ')}, got "${sort}"`, 2);
    const backlog = intOpt(p, 'backlog', 1_000)!;
    if (backlog < 0) throw new CliError('BAD_ARGS', '--backlog: expected a number ≥ 0', 2);
    const wl = intOpt(p, 'whitelist-version');
    let store: CollectorStore;
    try {
      store = await openCollectorStore(dbArg, { mustExist: true, poolSize: 2 });
    } catch (cause) {
      throw new CliError('DB_UNUSABLE', `--db ${redactUrl(dbArg)}: ${(cause as Error).message}`, 1, { cause });
    }
    try {
      const [statuses, states] = await Promise.all([store.statuses(), store.gates()]);
      const anomalies = new Map<string, StoredAnomaly[]>();
      for (const st of states) anomalies.set(st.gate, await store.anomalies(st.gate));
      const rows = sortRows(fleetRows(statuses, states, anomalies, { nowMs: Date.now(), backlog, ...(wl !== undefined ? { whitelistVersion: wl } : {}) }), sort, p.values.desc === true);
      if (format === 'json') io.out(JSON.stringify(rows, null, 2));
      else if (format === 'csv') io.out(formatCsv(rows));
      else io.out(rows.length ? formatTable(rows) : 'no gates known yet');
      return rows.some((r) => r.attention.length > 0) ? 3 : 0;
    } finally {
      await store.close();
    }
  },
};

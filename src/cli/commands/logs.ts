/**
 * `gatectl logs --gate G --db PATH`: one gate's events from the collector's
 * store, in seq order. With broker options it first asks the gate to replay
 * what the store lacks (from the first missing seq) and waits for the
 * collector to store it; --follow keeps printing as events arrive.
 */
import { openCollectorStore, type CollectorStore } from '../../store/central/collector-store.js';
import { redactUrl } from './central.js';
import type { JournalEvent } from '../../store/types.js';
import { BROKER_HELP, BROKER_OPTIONS, SIGNING_OPTIONS, brokerOptions, connectOnce, signingKey } from '../broker-options.js';
import { identOpt, parseCommandArgs, requireStr, secondsOpt, str, timeOpt, wantsHelp } from '../args.js';
import { CliError, type CliIO } from '../cli-error.js';
import type { GatectlCommand } from '../command.js';
import { buildCommand, requestCommand } from '../command-request.js';
import { CSV_HEADER, formatEvent, type LogFormat } from '../event-format.js';

const help = `Usage: gatectl logs --gate GATE --db PATH|postgres://… [--since TIME] [--follow] [--format jsonl|csv] [options]

Prints one gate's events from the collector's store (gatectl central --db), in seq order.
  --since TIME     only events at or after TIME (ISO 8601)
  --follow         keep printing new events until interrupted
  --format F       jsonl (default) or csv
  --url …          with broker and signing options: first ask the gate to replay
                   every event the store lacks, and wait for the collector to store it
  --wait S         how long to wait for a replay to land (default 15)
Missing seq ranges are named on stderr; printing stops at the first gap unless
--allow-gaps is given.

${BROKER_HELP}`;

const PAGE = 1_000;

export const logsCommand: GatectlCommand = {
  name: ['logs'],
  summary: "print a gate's events from the collector's store, replaying what is missing",
  help,
  async run(argv, io) {
    const p = parseCommandArgs(
      argv,
      {
        ...BROKER_OPTIONS,
        ...SIGNING_OPTIONS,
        gate: { type: 'string' },
        site: { type: 'string' },
        db: { type: 'string' },
        since: { type: 'string' },
        follow: { type: 'boolean' },
        format: { type: 'string' },
        wait: { type: 'string' },
        'allow-gaps': { type: 'boolean' },
      },
      help,
    );
    if (wantsHelp(p)) return (io.out(help), 0);
    const gate = identOpt(p, 'gate');
    const dbPath = requireStr(p, 'db');
    const format = (str(p, 'format') ?? 'jsonl') as LogFormat;
    if (format !== 'jsonl' && format !== 'csv') throw new CliError('BAD_ARGS', `--format: expected jsonl or csv, got "${format}"`, 2);
    const sinceMs = timeOpt(p, 'since');
    const waitMs = secondsOpt(p, 'wait', 15);
    const wantsReplay = str(p, 'url') !== undefined || process.env.GATECTL_URL !== undefined;
    let store: CollectorStore;
    try {
      store = await openCollectorStore(dbPath, { mustExist: true, poolSize: 2 });
    } catch (cause) {
      throw new CliError('DB_UNUSABLE', `--db ${redactUrl(dbPath)}: ${(cause as Error).message}`, 1, { cause });
    }
    try {
      const known = await store.state(gate);
      if (!known && !p.values.follow && !wantsReplay) throw new CliError('UNKNOWN_GATE', `no events from gate ${gate} in ${redactUrl(dbPath)}`);
      if (wantsReplay) {
        const site = str(p, 'site') ?? known?.site;
        if (!site) throw new CliError('BAD_ARGS', `--site is required: gate ${gate} is not in the store yet`, 2);
        await replayMissing(store, { site, gate }, p, io, waitMs);
      }
      const printer = new Printer(io, format, sinceMs, p.values['allow-gaps'] === true);
      await printer.drain(store, gate);
      if (!p.values.follow) return await printer.reportGaps(store, gate);
      while (!io.signal?.aborted) {
        await sleep(500, io.signal);
        await printer.drain(store, gate);
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};

class Printer {
  private nextSeq = 1;
  private headerDone = false;
  constructor(
    private readonly io: CliIO,
    private readonly format: LogFormat,
    private readonly sinceMs: number | undefined,
    private readonly allowGaps: boolean,
  ) {}

  async drain(store: CollectorStore, gate: string): Promise<void> {
    if (this.format === 'csv' && !this.headerDone) (this.io.out(CSV_HEADER), (this.headerDone = true));
    const st = await store.state(gate);
    if (!st) return;
    const upTo = this.allowGaps ? st.maxSeq : st.contiguousSeq;
    while (this.nextSeq <= upTo) {
      const page = await store.events(gate, this.nextSeq, upTo, PAGE);
      if (page.length === 0) break;
      for (const ev of page) if (this.wanted(ev)) this.io.out(formatEvent(ev, this.format));
      this.nextSeq = page[page.length - 1]!.seq + 1;
    }
  }

  private wanted(ev: JournalEvent): boolean {
    return this.sinceMs === undefined || Date.parse(ev.ts) >= this.sinceMs;
  }

  /** Exit 0 when nothing is missing, 4 when the store has gaps. */
  async reportGaps(store: CollectorStore, gate: string): Promise<number> {
    const gaps = await store.gaps(gate, 20);
    if (gaps.length === 0) return 0;
    this.io.err(`gate ${gate}: missing seq ${gaps.map((g) => (g.from === g.to ? `${g.from}` : `${g.from}-${g.to}`)).join(', ')}`);
    return 4;
  }
}

async function replayMissing(store: CollectorStore, target: { site: string; gate: string }, p: Parameters<typeof brokerOptions>[0], io: CliIO, waitMs: number): Promise<void> {
  const signer = signingKey(p);
  const client = await connectOnce(brokerOptions(p));
  try {
    const fromSeq = ((await store.state(target.gate))?.contiguousSeq ?? 0) + 1;
    const cmd = buildCommand({ type: 'replay', fromSeq }, Date.now(), 10 * 60_000);
    const result = await requestCommand(client, target, cmd, signer, waitMs);
    if (!result.ok) {
      // Nothing after what the store holds: the common case, not a problem.
      if (result.error?.code !== 'NOTHING_TO_REPLAY') {
        io.err(`gate ${target.gate} refused the replay: ${result.error?.code ?? 'ERROR'}: ${result.error?.message ?? ''}`);
      }
      return;
    }
    // The gate says up to which seq it resends ({fromSeq, toSeq, count});
    // wait for the collector to store that far.
    const toSeq = (result.result as { toSeq?: unknown } | undefined)?.toSeq;
    const upTo = typeof toSeq === 'number' ? toSeq : Number.MAX_SAFE_INTEGER;
    const deadline = Date.now() + waitMs;
    let last = -1;
    let stillSince = Date.now();
    while (Date.now() < deadline) {
      const st = await store.state(target.gate);
      if (st && st.contiguousSeq >= upTo) return;
      const at = st ? st.contiguousSeq : 0;
      if (at !== last) (last = at), (stillSince = Date.now());
      else if (upTo === Number.MAX_SAFE_INTEGER && Date.now() - stillSince > 1_500) return;
      await sleep(200);
    }
    io.err(`warning: the collector has not stored the replayed events within ${waitMs / 1000} s (is gatectl central running?)`);
  } catch (e) {
    if (e instanceof CliError && e.code === 'CMD_TIMEOUT') io.err(`warning: ${e.message}; printing what the store has`);
    else throw e;
  } finally {
    await client.endAsync();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

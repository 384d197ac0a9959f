/**
 * The SIGKILL campaign: the real daemon reads a burst of taps from a real
 * serial pty and is killed with SIGKILL at random points, then restarted,
 * `kills` times. The simulated GPIO appends every output change to a trace
 * file synchronously, so the trace survives each kill. Afterwards:
 *  - every relay pulse in the trace has its committed access event (the relay
 *    never moved for a tap the journal does not hold) — `lost` counts those
 *    that do not;
 *  - seq has no gap and the hash chain verifies;
 *  - after every restart each relay's first write is its safe (off) state —
 *    `energizedAfterRestart` counts restarts where it was not.
 * Used by tests/crash (200 kills) and bench/readers (fewer with --quick).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { verifyChain } from '../../src/store/journal.js';
import { startPtyPair } from './pty.js';
import { startDaemon } from './daemon.js';

export interface CrashResult {
  kills: number;
  /** Granted access events in the journal. */
  grants: number;
  /** Relay off→on transitions in the trace. */
  pulses: number;
  /** Relay pulses with no committed grant before them. */
  lost: number;
  seqGaps: number;
  chainOk: boolean;
  energizedAfterRestart: number;
  /** Trace records cut short by a kill: at most one per kill. */
  tornRecords: number;
  durationS: number;
}

interface TraceRecord {
  t: number;
  line: string;
  active: boolean;
}

const CARDS = 200;
const uid = (i: number) => (0xc0000000 + i).toString(16).toUpperCase();

export async function runCrashCampaign(opts: { kills: number; log?: (line: string) => void }): Promise<CrashResult> {
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'gc-crash-'));
  const dbPath = join(dir, 'gate.db');
  const tracePath = join(dir, 'gpio-trace.jsonl');
  const pty = await startPtyPair(dir);
  try {
    seed(dbPath);
    const configPath = join(dir, 'config.yaml');
    writeFileSync(
      configPath,
      [
        'gate: { id: crash, site: lab }',
        `storage: { path: "${dbPath}", synchronous: normal }`,
        `privacy: { idHashKey: "${'5a'.repeat(32)}" }`,
        `readers: [{ id: serial, type: serial, direction: in, path: "${pty.readerPath}", baudRate: 115200, format: hex, repeatMs: 0 }]`,
        `gpio: { backend: sim, trace: "${tracePath}", relays: { entry: { line: 17, pulseMs: 60 } }, leds: { green: { line: 5 }, red: { line: 6 } } }`,
        'access: { antiPassback: false, duplicateTapMs: 0, passageTimeoutMs: 500 }',
        'log: { level: info }',
      ].join('\n'),
    );

    const spawnTimes: number[] = [];
    let tap = 0;
    for (let k = 0; k < opts.kills; k++) {
      spawnTimes.push(Date.now());
      const daemon = startDaemon({ configPath });
      await daemon.ready;
      // A burst of taps spaced a little over one relay pulse apart, so each
      // grant is its own pulse; SIGKILL lands at a random point inside it.
      const killAt = performance.now() + 20 + Math.random() * 400;
      while (performance.now() < killAt) {
        await pty.send(`${uid(tap++ % CARDS)}\r\n`);
        await sleep(Math.min(65 + Math.random() * 30, Math.max(0, killAt - performance.now())));
      }
      await daemon.kill();
      if ((k + 1) % 25 === 0) log(`  ${k + 1} kills, ${tap} taps sent`);
    }
    // One last clean start: it must drive the relay off before anything else.
    spawnTimes.push(Date.now());
    const last = startDaemon({ configPath });
    await last.ready;
    await last.stop();

    const { records: trace, torn } = readTrace(tracePath);
    const store = openStore({ path: dbPath, synchronous: 'normal', gateId: 'crash' });
    try {
      const chain = verifyChain(store.db);
      const events = store.journal.range(1, Number.MAX_SAFE_INTEGER, 10_000_000);
      let seqGaps = 0;
      events.forEach((e, i) => {
        if (e.seq !== i + 1) seqGaps++;
      });
      const grantTimes = events
        .filter((e) => (e.type === 'access' && e.granted === true) || e.type === 'manual_open')
        .map((e) => Date.parse(e.ts));
      const pulseTimes = onTransitions(trace, 'entry');
      return {
        kills: opts.kills,
        grants: grantTimes.length,
        pulses: pulseTimes.length,
        lost: unmatchedPulses(pulseTimes, grantTimes),
        seqGaps,
        chainOk: chain.ok,
        energizedAfterRestart: restartsNotSafe(trace, spawnTimes, ['entry', 'green', 'red']),
        tornRecords: torn,
        durationS: (performance.now() - started) / 1000,
      };
    } finally {
      store.close();
    }
  } finally {
    await pty.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function seed(dbPath: string): void {
  const store = openStore({ path: dbPath, synchronous: 'normal', gateId: 'crash' });
  const people = Array.from({ length: CARDS }, (_, i) => ({ id: `p${i}`, kind: 'staff' as const, name: `Person ${i}` }));
  const credentials = people.map((p, i) => ({ key: `card:${uid(i)}`, personId: p.id, status: 'active' as const }));
  store.whitelist.upsert({ people, credentials }, 'central');
  store.close();
}

function readTrace(path: string): ParsedTrace {
  return parseTrace(readFileSync(path, 'utf8'));
}

export interface ParsedTrace {
  records: TraceRecord[];
  /** Records a SIGKILL cut short (see parseTrace). */
  torn: number;
}

const RECORD_START = /(?=\{"t":)/;
const TORN_HEAD = /^\{"t":(\d+),"line":"([^"]+)"/;

/**
 * The trace as written, torn records included. The kernel copies a write(2)
 * page by page and gives up between pages when a fatal signal is pending, so
 * a SIGKILL can cut a record that straddles a 4 KiB boundary: its head is
 * then followed, on the same line, by the next run's first record. A torn
 * record counts in `torn`; when its time and line survive it is kept as
 * "active" (the relay may have moved: the pulse must then have its grant),
 * otherwise it is dropped. Anything else that does not parse is an error.
 */
export function parseTrace(text: string): ParsedTrace {
  const records: TraceRecord[] = [];
  let torn = 0;
  const lines = text.split('\n');
  lines.forEach((line, li) => {
    const pieces = line.split(RECORD_START).filter(Boolean);
    pieces.forEach((piece, pi) => {
      const last = pi === pieces.length - 1;
      const complete = last && li < lines.length - 1; // ended by its newline
      if (!piece.startsWith('{"t":')) throw new Error(`trace line ${li + 1}: not a trace record: ${piece.slice(0, 60)}`);
      if (complete) {
        records.push(JSON.parse(piece) as TraceRecord);
        return;
      }
      const head = TORN_HEAD.exec(piece);
      torn++;
      if (head) records.push({ t: Number(head[1]), line: head[2]!, active: true });
    });
  });
  return { records, torn };
}

/** Times at which `line` went from off to on. */
export function onTransitions(trace: TraceRecord[], line: string): number[] {
  const out: number[] = [];
  let on = false;
  for (const r of trace) {
    if (r.line !== line) continue;
    if (r.active && !on) out.push(r.t);
    on = r.active;
  }
  return out;
}

/**
 * Each pulse needs its own grant committed at or before it (within 2 s: a
 * relay moves milliseconds after its commit). Greedy in time order.
 */
export function unmatchedPulses(pulses: number[], grants: number[]): number {
  const g = [...grants].sort((a, b) => a - b);
  let gi = 0;
  let lost = 0;
  let lastUsed = -1;
  for (const t of [...pulses].sort((a, b) => a - b)) {
    while (gi < g.length && g[gi]! <= t) gi++;
    // the latest grant at or before t that no earlier pulse used
    const candidate = gi - 1;
    if (candidate > lastUsed && candidate >= 0 && t - g[candidate]! <= 2_000) lastUsed = candidate;
    else lost++;
  }
  return lost;
}

/** For each start, the first trace record of each line must be "off". */
export function restartsNotSafe(trace: TraceRecord[], spawnTimes: number[], lines: string[]): number {
  let bad = 0;
  for (const s of spawnTimes) {
    for (const line of lines) {
      const first = trace.find((r) => r.line === line && r.t >= s);
      if (first && first.active) bad++;
    }
  }
  return bad;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

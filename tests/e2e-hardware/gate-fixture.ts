/**
 * One real gate for an end-to-end test: a temp directory with a database
 * seeded with cards, a config with the given readers and the sim GPIO
 * tracing every output change to a file, and readers for what the test
 * asserts afterwards: the trace (relay pulses) and the journal (rows, chain).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { openStore } from '../../src/store/index.js';
import { verifyChain } from '../../src/store/journal.js';
import type { JournalEvent } from '../../src/store/types.js';
import { until as waitUntil } from '../helpers/until.js';

export const GATE_ID = 'e2e-hw';
export const PULSE_MS = 200;

export interface TraceRecord {
  t: number;
  line: string;
  active: boolean;
}

export interface GateFixture {
  dir: string;
  dbPath: string;
  tracePath: string;
  configPath: string;
  trace(): TraceRecord[];
  /** Relay `line` pulses: each off→on time and the following on→off time. */
  pulses(line?: string): Array<{ on: number; off?: number }>;
  /** Open the store (daemon stopped), read every event and verify the chain. */
  journal(): { events: JournalEvent[]; chainOk: boolean };
  cleanup(): void;
}

/** `logLevel` debug lets a test count what the daemon only logs at debug (reconnect attempts). */
export function makeGate(opts: { cards: string[]; readers: unknown[]; logLevel?: 'info' | 'debug' }): GateFixture {
  const dir = mkdtempSync(join(tmpdir(), 'gate-e2e-hw-'));
  const dbPath = join(dir, 'gate.db');
  const tracePath = join(dir, 'gpio-trace.jsonl');
  const configPath = join(dir, 'config.yaml');

  const store = openStore({ path: dbPath, synchronous: 'normal', gateId: GATE_ID });
  const people = opts.cards.map((_, i) => ({ id: `p${i}`, kind: 'staff' as const, name: `Person ${i}` }));
  const credentials = opts.cards.map((uid, i) => ({ key: `card:${uid}`, personId: `p${i}`, status: 'active' as const }));
  store.whitelist.upsert({ people, credentials }, 'central');
  store.close();

  writeFileSync(
    configPath,
    stringify({
      gate: { id: GATE_ID, site: 'lab' },
      storage: { path: dbPath, synchronous: 'normal' },
      privacy: { idHashKey: '5a'.repeat(32) },
      readers: opts.readers,
      gpio: { backend: 'sim', trace: tracePath, relays: { entry: { line: 17, pulseMs: PULSE_MS } } },
      // Each tap here is judged alone: no anti-passback, no duplicate-tap window.
      access: { antiPassback: false, duplicateTapMs: 0 },
      log: { level: opts.logLevel ?? 'info' },
    }),
  );

  const trace = (): TraceRecord[] => {
    let text = '';
    try {
      text = readFileSync(tracePath, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TraceRecord);
  };

  return {
    dir,
    dbPath,
    tracePath,
    configPath,
    trace,
    pulses(line = 'entry') {
      const out: Array<{ on: number; off?: number }> = [];
      let on = false;
      for (const r of trace()) {
        if (r.line !== line) continue;
        if (r.active && !on) out.push({ on: r.t });
        if (!r.active && on) out.at(-1)!.off = r.t;
        on = r.active;
      }
      return out;
    },
    journal() {
      const s = openStore({ path: dbPath, synchronous: 'normal', gateId: GATE_ID });
      try {
        return { events: s.journal.range(1, Number.MAX_SAFE_INTEGER, 1_000_000), chainOk: verifyChain(s.db).ok };
      } finally {
        s.close();
      }
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The suite's bounded wait, with this folder's argument order and 10 s default. */
export async function until(what: string, cond: () => boolean, timeoutMs = 10_000, diag?: () => string): Promise<void> {
  await waitUntil(cond, { what, timeoutMs, diag });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** pino lines of the daemon's output whose msg is `msg`. */
export function logLines(output: string, msg: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of output.split('\n')) {
    if (!line.includes(msg)) continue;
    try {
      const rec = JSON.parse(line) as Record<string, unknown>;
      if (rec.msg === msg) out.push(rec);
    } catch {
      // a partial line at the end of the buffer
    }
  }
  return out;
}

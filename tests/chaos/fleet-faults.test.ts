/**
 * Chaos at fleet scale: simulated gates (bench/lib/sim-gate.ts, protocol v1)
 * → mosquitto → two `gatectl central` processes in one $share group → a
 * real PostgreSQL. While the gates tap, one collector is SIGKILLed (the
 * other takes the whole feed) and PostgreSQL is restarted (the collector
 * retries, the gates resend); one gate's clock is 10 minutes ahead. After the
 * gates drain: every event stored once, every chain verified to the gate's
 * own last hash, `gatectl journal verify` on the database says ok.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SimGate } from '../../bench/lib/sim-gate.js';
import { generateKeyPair } from '../../src/sync/protocol/keys.js';
import { gatectl } from '../cli/capture.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';

const GATECTL = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'gatectl.js');
let broker: Mosquitto;
let postgres: Postgres;
const dir = mkdtempSync(join(tmpdir(), 'gc-fleet-faults-'));
const kp = generateKeyPair();
const keys = new Map([['k1', createPublicKey(kp.publicPem)]]);
writeFileSync(join(dir, 'k1.key.pem'), kp.privatePem, { mode: 0o600 });

beforeAll(async () => {
  [broker, postgres] = await Promise.all([startMosquitto({ persistence: false }), startPostgres()]);
});
afterAll(async () => {
  await broker?.stop();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, fn: () => boolean | Promise<boolean>, ms: number, info: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${info()}`);
    await sleep(50);
  }
}

it('a collector SIGKILLed and PostgreSQL restarted mid-feed, a gate clock 10 min off: nothing lost, nothing twice, every chain verified', async () => {
  const db = await postgres.createDatabase('fleet_faults');
  const logPath = join(dir, 'collectors.log');
  const logFd = openSync(logPath, 'a');
  const collectorLog = () => readFileSync(logPath, 'utf8').slice(-4_000);
  const collectors: ChildProcess[] = [0, 1].map((i) =>
    spawn(process.execPath, [GATECTL, 'central', '--db', db, '--url', broker.url, '--client-id', `ff-central-${i}`, '--key-file', join(dir, 'k1.key.pem'), '--group', 'ff', '--log-level', 'warn'], {
      stdio: ['ignore', logFd, logFd],
    }),
  );
  const gates = Array.from({ length: 12 }, (_, i) =>
    new SimGate({ site: 's1', gate: `f${i}`, url: broker.url, centralKeys: keys, clockOffsetMs: i === 0 ? 10 * 60_000 : 0, ackTimeoutMs: 3_000, statusIntervalMs: 1_000 }),
  );
  let tapping: NodeJS.Timeout | undefined;
  try {
    await until('both collectors to run', () => (readFileSync(logPath, 'utf8').match(/collector running/g)?.length ?? 0) >= 2, 20_000, collectorLog);
    await Promise.all(gates.map((g) => g.start()));
    tapping = setInterval(() => gates.forEach((g) => g.tap()), 50); // 20 events/s per gate
    const acked = () => gates.reduce((t, g) => t + g.stats().ackedSeq, 0);
    await until('the first events to be acked', () => acked() >= 200, 20_000, collectorLog);
    collectors[1]!.kill('SIGKILL');
    const afterKill = acked();
    await until('the other collector to take the whole feed', () => acked() >= afterKill + 500, 30_000, collectorLog);
    await postgres.restart();
    const afterRestart = acked();
    await until('acks to move again after the PostgreSQL restart', () => acked() >= afterRestart + 300, 30_000, collectorLog);
    clearInterval(tapping);
    tapping = undefined;
    await until('every gate outbox to drain', () => gates.every((g) => g.pending === 0), 60_000, () => `${JSON.stringify(gates.map((g) => g.stats()))}\n${collectorLog()}`);
  } finally {
    clearInterval(tapping);
    await Promise.all(gates.map((g) => g.stop()));
    for (const c of collectors) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(collectors.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  }
  const stats = gates.map((g) => g.stats());
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  try {
    for (const g of stats) {
      const rows = await c.query<{ n: number; ids: number; max: number | null }>(
        'SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, max(seq)::int AS max FROM central_events WHERE gate = $1',
        [g.gate],
      );
      expect(rows.rows[0], g.gate).toEqual({ n: g.lastSeq, ids: g.lastSeq, max: g.lastSeq }); // lost 0, duplicates 0
      const st = await c.query('SELECT contiguous_seq::int AS c, verified_seq::int AS v, broken_seq FROM central_gates WHERE gate = $1', [g.gate]);
      expect(st.rows[0], g.gate).toEqual({ c: g.lastSeq, v: g.lastSeq, broken_seq: null });
      const last = await c.query<{ hash: string }>('SELECT hash FROM central_events WHERE gate = $1 AND seq = $2', [g.gate, g.lastSeq]);
      expect(last.rows[0]!.hash, g.gate).toBe(g.lastHash);
    }
    const anomalies = await c.query("SELECT kind, count(*)::int AS n FROM central_anomalies WHERE kind <> 'bad_payload' GROUP BY kind");
    expect(anomalies.rows).toEqual([]);
    // The gate whose clock is off: its events carry its own time, stored as sent (the chain covers ts).
    const ts = await c.query<{ ts: string }>("SELECT ts FROM central_events WHERE gate = 'f0' ORDER BY seq LIMIT 1");
    expect(Date.parse(ts.rows[0]!.ts) - Date.now()).toBeGreaterThan(8 * 60_000);
  } finally {
    await c.end();
  }
  expect(stats.reduce((t, g) => t + g.lastSeq, 0)).toBeGreaterThan(1_000);
  const verify = await gatectl(['journal', 'verify', '--db', db]);
  expect(verify.code).toBe(0);
  expect(verify.out.trim().split('\n')).toHaveLength(12);
}, 180_000);

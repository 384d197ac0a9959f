/**
 * bench/fleet — the central office at fleet scale, end to end on this machine:
 * N simulated gates (bench/lib/sim-gate.ts: protocol v1, own hash chain,
 * windowed at-least-once feed, signed acks, status with last will; many
 * gates per worker process) → one mosquitto → two `gatectl central`
 * processes in one $share group → one PostgreSQL (fsync and synchronous
 * commit on: an ack means the events survive a crash).
 *
 * For each fleet size the gates tap at a fixed total rate for a while, then
 * stop; the bench waits until every gate's outbox is empty and checks the
 * database against every gate's own chain. Printed per size: the offered
 * rate, events/s stored and acked end to end (acked during the tap window /
 * its length, and all events / time until the last one was acked),
 * publish → acked p50/p99, lost, duplicates stored, gates whose chain
 * verified up to the gate's last event with the gate's last hash, and CPU
 * seconds per 1,000 events of the broker, the collectors, PostgreSQL and the
 * simulated gates (from /proc/<pid>/stat).
 *
 * With --faults (and always in --quick): one gate's clock is 10 minutes off;
 * one collector is SIGKILLed at 1/3 of the tap window (the other takes the
 * whole feed) and PostgreSQL is restarted at 2/3 (collectors retry, gates
 * resend). The figures must still say lost 0, duplicates 0.
 *
 *   npm run bench:fleet                     100, 300, 1000 gates, 10,000 events/s, 60 s each
 *   npm run bench:fleet -- --quick          100 gates, 2,000 events/s, 20 s, faults (< 3 min)
 *   npm run bench:fleet -- --gates 1000 --rate 12000 --seconds 60 [--faults]
 * The last line is one JSON object.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync, openSync } from 'node:fs';
import { cpus, tmpdir, loadavg, setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateKeyPair } from '../src/sync/protocol/keys.js';
import { startMosquitto, type Mosquitto } from '../tests/helpers/mosquitto.js';
import { startPostgres, type Postgres } from '../tests/helpers/postgres.js';
import { SimGate, type SimGateStats } from './lib/sim-gate.js';

const here = dirname(fileURLToPath(import.meta.url));
const GATECTL = join(here, '..', 'src', 'cli', 'gatectl.js');
const HIST_MS = 120_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface WorkerGate {
  site: string;
  gate: string;
  clockOffsetMs: number;
}
type ToWorker =
  | { kind: 'start'; url: string; pubPem: string; gates: WorkerGate[]; ratePerGate: number }
  | { kind: 'taps'; on: boolean }
  | { kind: 'poll' }
  | { kind: 'end' };
type FromWorker =
  | { kind: 'ready' }
  | { kind: 'poll'; generated: number; acked: number; pending: number; connected: number; acks: number; badAcks: number; resends: number }
  | { kind: 'end'; gates: SimGateStats[]; hist: number[] };

// ---------------------------------------------------------------- worker
async function worker(): Promise<void> {
  let gates: SimGate[] = [];
  const hist = new Uint32Array(HIST_MS + 1);
  let tapTimer: NodeJS.Timeout | undefined;
  let ratePerGate = 0;
  const send = (m: FromWorker) => process.send!(m);
  process.on('message', (m: ToWorker) => {
    void (async () => {
      if (m.kind === 'start') {
        const keys = new Map([['k1', createPublicKey(m.pubPem)]]);
        ratePerGate = m.ratePerGate;
        gates = m.gates.map(
          (g) => new SimGate({ ...g, url: m.url, centralKeys: keys, onAcked: (ms) => hist[Math.min(HIST_MS, Math.max(0, Math.round(ms)))]!++ }),
        );
        // Connect in slices: a thousand CONNECTs in one tick is a storm no real fleet makes.
        for (let i = 0; i < gates.length; i += 25) await Promise.all(gates.slice(i, i + 25).map((g) => g.start()));
        send({ kind: 'ready' });
      } else if (m.kind === 'taps') {
        clearInterval(tapTimer);
        if (!m.on) return;
        // Each gate taps at ratePerGate, phases spread so the load is even.
        const credit = gates.map((_, i) => (i / gates.length) % 1);
        let last = performance.now();
        tapTimer = setInterval(() => {
          const now = performance.now();
          const dt = (now - last) / 1000;
          last = now;
          for (let i = 0; i < gates.length; i++) {
            credit[i]! += ratePerGate * dt;
            while (credit[i]! >= 1) {
              credit[i]! -= 1;
              gates[i]!.tap();
            }
          }
        }, 10);
      } else if (m.kind === 'poll') {
        let generated = 0;
        let acked = 0;
        let pending = 0;
        let acks = 0;
        let badAcks = 0;
        let resends = 0;
        for (const g of gates) {
          const s = g.stats();
          generated += s.lastSeq;
          acked += s.ackedSeq;
          pending += g.pending;
          acks += s.acksReceived;
          badAcks += s.badAcks;
          resends += s.resends;
        }
        send({ kind: 'poll', generated, acked, pending, connected: gates.length, acks, badAcks, resends });
      } else if (m.kind === 'end') {
        clearInterval(tapTimer);
        const stats = gates.map((g) => g.stats());
        await Promise.all(gates.map((g) => g.stop()));
        send({ kind: 'end', gates: stats, hist: [...hist] });
        setTimeout(() => process.exit(0), 100);
      }
    })();
  });
}

// ---------------------------------------------------------------- CPU
/** utime+stime (+ reaped children's) of a pid in seconds, 0 when gone. */
function cpuOf(pid: number | undefined, withChildren = false): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
    return ticks / 100;
  } catch {
    return 0;
  }
}

/** A postmaster and its live backends (and its reaped ones through cutime). */
function cpuPostgres(pid: number | undefined): number {
  if (!pid) return 0;
  let t = cpuOf(pid, true);
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) t += cpuOf(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return t;
}

// ---------------------------------------------------------------- one run
interface RunResult {
  gates: number;
  offered_per_s: number;
  seconds: number;
  generated: number;
  events_per_s: number;
  events_per_s_end_to_end: number;
  drain_s: number;
  p50_ms: number;
  p99_ms: number;
  lost: number;
  unacked_at_end: number;
  duplicates: number;
  chains_verified: number;
  cpu_s_per_1000: { broker: number; collectors: number; postgres: number; gates: number };
  faults: string[];
}

function percentile(hist: Uint32Array | number[], q: number): number {
  let total = 0;
  for (const n of hist) total += n;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= total * q) return i;
  }
  return hist.length - 1;
}

let quick = false;
let gatesNice = 10;
/** Everything a run started, stopped on SIGINT/SIGTERM too (no orphans on a shared machine). */
const cleanups = new Set<() => Promise<void> | void>();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void Promise.allSettled([...cleanups].map(async (f) => f())).then(() => process.exit(130));
  });
}

async function run(pgsrv: Postgres, n: number, rate: number, seconds: number, faults: boolean, keyDir: string, pubPem: string): Promise<RunResult> {
  const broker: Mosquitto = await startMosquitto({
    persistence: false,
    extra: ['set_tcp_nodelay true', 'max_queued_messages 100000', 'max_inflight_messages 0', 'max_keepalive 120', 'log_type none'],
  });
  cleanups.add(() => broker.stop());
  const db = await pgsrv.createDatabase(`fleet_${n}`);
  const logs = join(keyDir, `collectors-${n}.log`);
  const logFd = openSync(logs, 'a');
  const collectors: ChildProcess[] = [];
  const startCollector = (i: number) => {
    const c = spawn(
      process.execPath,
      [...(process.env.FLEET_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.FLEET_PROF] : []), GATECTL, 'central', '--db', db, '--url', broker.url, '--client-id', `fleet-central-${i}`, '--key-file', join(keyDir, 'k1.key.pem'), '--group', 'fleet', '--log-level', 'warn'],
      { stdio: ['ignore', logFd, logFd] },
    );
    collectors[i] = c;
    cleanups.add(() => void c.kill('SIGKILL'));
    return c;
  };
  for (const i of [0, 1]) startCollector(i);
  // Wait for both to have created/migrated the schema and subscribed (their stderr says "collector running").
  const until = Date.now() + 30_000;
  const running = () => readFileSync(logs, 'utf8').match(/collector running/g)?.length ?? 0;
  while (running() < 2) {
    if (Date.now() > until) throw new Error(`collectors did not start: ${readFileSync(logs, 'utf8').slice(-2_000)}`);
    await sleep(100);
  }

  const nWorkers = Math.max(1, Math.min(4, Math.ceil(n / 250)));
  const workers: ChildProcess[] = [];
  const allGates: WorkerGate[] = Array.from({ length: n }, (_, i) => ({
    site: `s${String(Math.floor(i / 50)).padStart(2, '0')}`,
    gate: `g${String(i).padStart(4, '0')}`,
    // One gate's clock is 10 minutes ahead in a fault run.
    clockOffsetMs: faults && i === 0 ? 10 * 60_000 : 0,
  }));
  const replies = new Map<ChildProcess, (m: FromWorker) => void>();
  const ask = (w: ChildProcess, m: ToWorker, want: FromWorker['kind']) =>
    new Promise<FromWorker>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`worker ${w.pid} did not answer ${m.kind} within 120 s (exit ${w.exitCode ?? w.signalCode})`)), 120_000);
      replies.set(w, (r) => r.kind === want && (clearTimeout(t), resolve(r)));
      w.send(m);
    });
  for (let k = 0; k < nWorkers; k++) {
    const prof = process.env.FLEET_PROF ? ['--cpu-prof', '--cpu-prof-dir', join(process.env.FLEET_PROF, 'gates')] : [];
    const w = fork(fileURLToPath(import.meta.url), ['--worker'], { execArgv: ['--max-semi-space-size=16', ...prof] });
    w.on('message', (m: FromWorker) => replies.get(w)?.(m));
    // The gates are other machines in a real fleet: here they share the two
    // cores with the broker, the collectors and PostgreSQL, and at equal
    // priority they starved the single-threaded broker (its sockets' receive
    // queues filled and the collectors' acks waited unread: measured with
    // `ss`). Niced, they still run on every idle cycle and their CPU is still
    // counted below. --gates-nice 0 turns it off.
    if (gatesNice > 0 && w.pid) {
      try {
        setPriority(w.pid, gatesNice);
      } catch {
        // not permitted: run at equal priority
      }
    }
    cleanups.add(() => void w.kill('SIGKILL'));
    workers.push(w);
  }
  await Promise.all(
    workers.map((w, k) => ask(w, { kind: 'start', url: broker.url, pubPem, gates: allGates.filter((_, i) => i % nWorkers === k), ratePerGate: rate / n }, 'ready')),
  );
  const poll = async () => {
    const rs = (await Promise.all(workers.map((w) => ask(w, { kind: 'poll' }, 'poll')))) as Array<Extract<FromWorker, { kind: 'poll' }>>;
    return rs.reduce(
      (a, r) => ({ generated: a.generated + r.generated, acked: a.acked + r.acked, pending: a.pending + r.pending, acks: a.acks + r.acks, badAcks: a.badAcks + r.badAcks, resends: a.resends + r.resends }),
      { generated: 0, acked: 0, pending: 0, acks: 0, badAcks: 0, resends: 0 },
    );
  };

  const cpu = () => ({
    broker: cpuOf(broker.pid()),
    collectors: collectors.reduce((t, c) => t + cpuOf(c.pid), 0),
    postgres: cpuPostgres(pgsrv.pid()),
    gates: workers.reduce((t, w) => t + cpuOf(w.pid), 0),
  });
  const killedCpu = { collectors: 0, postgres: 0 };
  const cpu0 = cpu();
  const t0 = Date.now();
  for (const w of workers) w.send({ kind: 'taps', on: true } satisfies ToWorker);
  const done: string[] = [];
  let ackedInWindow = 0;
  while (Date.now() - t0 < seconds * 1000) {
    await sleep(1_000);
    const el = (Date.now() - t0) / 1000;
    if (faults && !done.includes('collector_sigkill') && el >= seconds / 3) {
      killedCpu.collectors += cpuOf(collectors[1]!.pid);
      collectors[1]!.kill('SIGKILL');
      done.push('collector_sigkill');
    }
    if (faults && !done.includes('postgres_restart') && el >= (2 * seconds) / 3) {
      killedCpu.postgres += cpuPostgres(pgsrv.pid());
      await pgsrv.restart();
      done.push('postgres_restart');
    }
    const p = await poll();
    ackedInWindow = p.acked;
    process.stderr.write(`  ${n} gates t=${el.toFixed(0)}s generated ${p.generated} acked ${p.acked} pending ${p.pending} (acks received ${p.acks}, bad ${p.badAcks}, resends ${p.resends})\n`);
  }
  for (const w of workers) w.send({ kind: 'taps', on: false } satisfies ToWorker);
  const tapsEnd = Date.now();
  let p = await poll();
  ackedInWindow = Math.min(ackedInWindow, p.acked);
  const drainUntil = Date.now() + (quick ? 60_000 : 180_000);
  while (p.pending > 0 && Date.now() < drainUntil) {
    await sleep(250);
    p = await poll();
  }
  const tDrained = Date.now();
  const cpu1 = cpu();
  const ends = (await Promise.all(workers.map((w) => ask(w, { kind: 'end' }, 'end')))) as Array<Extract<FromWorker, { kind: 'end' }>>;
  const hist = new Uint32Array(HIST_MS + 1);
  for (const e of ends) e.hist.forEach((v, i) => (hist[i]! += v));
  const gates = ends.flatMap((e) => e.gates);

  // The database against every gate's own chain.
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  const rows = await c.query<{ gate: string; n: string; ids: string; maxseq: string }>(
    'SELECT gate, count(*) AS n, count(DISTINCT id) AS ids, max(seq) AS maxseq FROM central_events GROUP BY gate',
  );
  const gs = await c.query<{ gate: string; contiguous_seq: string; verified_seq: string; broken_seq: string | null }>('SELECT gate, contiguous_seq, verified_seq, broken_seq FROM central_gates');
  const byGate = new Map(rows.rows.map((r) => [r.gate, r]));
  const stateOf = new Map(gs.rows.map((r) => [r.gate, r]));
  let lost = 0;
  let unacked = 0;
  let duplicates = 0;
  let verified = 0;
  for (const g of gates) {
    const r = byGate.get(g.gate);
    const stored = r ? Number(r.n) : 0;
    duplicates += r ? Number(r.n) - Number(r.ids) + Math.max(0, Number(r.maxseq) - g.lastSeq) : 0;
    const st = stateOf.get(g.gate);
    const contiguous = st ? Number(st.contiguous_seq) : 0;
    // Lost: acked to the gate (it may forget them) yet not stored. Events the
    // gate still holds unacked when the bench gives up waiting are not lost:
    // they are counted apart (the run did not drain).
    lost += Math.max(0, g.ackedSeq - Math.min(stored, contiguous));
    unacked += g.lastSeq - g.ackedSeq;
    if (st && st.broken_seq === null && Number(st.verified_seq) === g.lastSeq) {
      const h = await c.query<{ hash: string }>('SELECT hash FROM central_events WHERE gate = $1 AND seq = $2', [g.gate, g.lastSeq]);
      if (g.lastSeq === 0 || h.rows[0]?.hash === g.lastHash) verified++;
    }
  }
  await c.end();

  for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
  for (const col of collectors) if (col.exitCode === null && col.signalCode === null) col.kill('SIGTERM');
  const exited = (col: ChildProcess) => (col.exitCode !== null || col.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => col.once('exit', () => r())));
  await Promise.race([Promise.all(collectors.map(exited)), sleep(20_000)]);
  for (const col of collectors) if (col.exitCode === null && col.signalCode === null) col.kill('SIGKILL');
  await broker.stop();

  const generated = gates.reduce((t, g) => t + g.lastSeq, 0);
  const per1000 = (s: number) => +((s / Math.max(1, generated)) * 1000).toFixed(3);
  const tapSeconds = (tapsEnd - t0) / 1000;
  return {
    gates: n,
    offered_per_s: rate,
    seconds: +tapSeconds.toFixed(1),
    generated,
    events_per_s: Math.round(ackedInWindow / tapSeconds),
    events_per_s_end_to_end: Math.round(generated / ((tDrained - t0) / 1000)),
    drain_s: +((tDrained - tapsEnd) / 1000).toFixed(1),
    p50_ms: percentile(hist, 0.5),
    p99_ms: percentile(hist, 0.99),
    lost,
    unacked_at_end: unacked,
    duplicates,
    chains_verified: verified,
    cpu_s_per_1000: {
      broker: per1000(cpu1.broker - cpu0.broker),
      collectors: per1000(cpu1.collectors + killedCpu.collectors - cpu0.collectors),
      postgres: per1000(cpu1.postgres + killedCpu.postgres - cpu0.postgres),
      gates: per1000(cpu1.gates - cpu0.gates),
    },
    faults: faults ? ['clock_10min_off', ...done] : [],
  };
}

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  quick = argv.includes('--quick');
  gatesNice = Number(opt('gates-nice') ?? 10);
  const sizes = opt('gates') ? opt('gates')!.split(',').map(Number) : quick ? [100] : [100, 300, 1000];
  const rate = Number(opt('rate') ?? (quick ? 2_000 : 10_000));
  const seconds = Number(opt('seconds') ?? (quick ? 20 : 60));
  const faults = quick || argv.includes('--faults');
  if (sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 5_000) || !(rate > 0) || !(seconds > 0)) throw new Error('bad --gates, --rate or --seconds');
  if (!Number.isInteger(gatesNice) || gatesNice < 0 || gatesNice > 19) throw new Error('bad --gates-nice (0..19)');

  const keyDir = mkdtempSync(join(tmpdir(), 'gc-fleet-'));
  const kp = generateKeyPair();
  writeFileSync(join(keyDir, 'k1.key.pem'), kp.privatePem, { mode: 0o600 });
  createPrivateKey(kp.privatePem);
  const pgsrv: Postgres = await startPostgres({ durable: true, settings: { max_connections: '100', max_wal_size: '2GB', checkpoint_timeout: '15min' } });
  cleanups.add(() => pgsrv.stop());
  const results: RunResult[] = [];
  try {
    console.log(`bench:fleet  ${new Date().toISOString()}  ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}  load ${loadavg()[0]!.toFixed(2)}`);
    console.log(`offered ${rate} events/s for ${seconds} s per size; PostgreSQL fsync on, synchronous_commit on; 2 collectors in one $share group; gate workers at nice ${gatesNice}${faults ? '; faults: collector SIGKILL at 1/3, PostgreSQL restart at 2/3, one gate clock +10 min' : ''}`);
    for (const n of sizes) {
      const r = await run(pgsrv, n, rate, seconds, faults, keyDir, kp.publicPem);
      results.push(r);
      console.log(
        `gates ${String(r.gates).padStart(5)}  acked ${String(r.events_per_s).padStart(6)}/s (end to end ${r.events_per_s_end_to_end}/s, drain ${r.drain_s} s)  ` +
          `p50 ${r.p50_ms} ms  p99 ${r.p99_ms} ms  lost ${r.lost}${r.unacked_at_end ? ` (NOT DRAINED: ${r.unacked_at_end} still unacked at the gates)` : ''}  dup ${r.duplicates}  verified ${r.chains_verified}/${r.gates}  ` +
          `cpu s/1000 ev: broker ${r.cpu_s_per_1000.broker} collectors ${r.cpu_s_per_1000.collectors} postgres ${r.cpu_s_per_1000.postgres} gates ${r.cpu_s_per_1000.gates}`,
      );
    }
  } finally {
    await pgsrv.stop();
    const bad = results.length < sizes.length || results.some((r) => r.lost > 0 || r.duplicates > 0 || r.chains_verified !== r.gates);
    if (bad) console.error(`collector logs kept in ${keyDir}`);
    else rmSync(keyDir, { recursive: true, force: true });
  }
  const last = results[results.length - 1]!;
  console.log(
    JSON.stringify({
      gates: last.gates,
      events_per_s: last.events_per_s,
      p50_ms: last.p50_ms,
      p99_ms: last.p99_ms,
      lost: results.reduce((t, r) => t + r.lost, 0),
      unacked_at_end: results.reduce((t, r) => t + r.unacked_at_end, 0),
      duplicates: results.reduce((t, r) => t + r.duplicates, 0),
      chains_verified: last.chains_verified,
      runs: results,
    }),
  );
  if (results.some((r) => r.lost > 0 || r.unacked_at_end > 0 || r.duplicates > 0 || r.chains_verified !== r.gates)) process.exitCode = 1;
}

if (process.argv.includes('--worker')) void worker();
else
  main().catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  });

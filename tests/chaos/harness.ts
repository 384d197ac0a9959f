/**
 * Chaos harness: the real daemon (`node dist/src/main.js --config FILE`,
 * built by `npm run build`), a real mosquitto, and the reference collector,
 * all on loopback. Taps are card UIDs written to the simulated reader on the
 * daemon's stdin: each unknown card is one denied `access` event.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from '../../src/store/sqlite-driver.js';
import { stringify } from 'yaml';
import { afterAll, beforeAll, expect } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../cli/capture.js';
import { Collector } from '../../src/cli/central/collector.js';
import { createLogger } from '../../src/log.js';
import { CentralStore, verifyCentralDb } from '../../src/store/central/central.js';
import { generateKeyPair, loadPrivateKey } from '../../src/sync/protocol/keys.js';
import { until } from '../helpers/until.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DAEMON = join(ROOT, 'dist/src/main.js');
const STOP_MS = 10_000;

/** The daemon must be built: `npm test` builds first; running vitest alone needs `npm run build`. */
export function requireBuiltDaemon(): void {
  if (!existsSync(DAEMON)) throw new Error(`${DAEMON} is missing: run \`npm run build\` before the chaos tests`);
}

/** Length of a cut between gate and broker, seconds (CHAOS_CUT_S, default 60 as the issue asks). */
export const CUT_S = Number(process.env.CHAOS_CUT_S ?? 60);

export const centralKey = (() => {
  const pair = generateKeyPair();
  return { kid: 'c1', raw: pair.publicRaw, privatePem: pair.privatePem, signer: { kid: 'c1', key: loadPrivateKey(pair.privatePem) } };
})();

/** The suite's bounded wait, polled every 200 ms: these conditions read database files. */
export async function waitFor(what: string, pred: () => boolean | Promise<boolean>, timeoutMs: number, diag?: () => string): Promise<void> {
  await until(pred, { what, timeoutMs, diag, intervalMs: 200 });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface GateOptions {
  dir: string;
  gate: string;
  site: string;
  mqttUrl: string;
  /** Seconds; short so a silent cut is noticed quickly. */
  keepaliveS?: number;
}

export class GateProcess {
  private child: ChildProcess | undefined;
  private out = '';
  private tapCount = 0;
  readonly dbPath: string;
  readonly configPath: string;

  constructor(readonly opts: GateOptions) {
    mkdirSync(opts.dir, { recursive: true });
    this.dbPath = join(opts.dir, 'gate.db');
    this.configPath = join(opts.dir, 'config.yaml');
    writeFileSync(
      this.configPath,
      stringify({
        gate: { id: opts.gate, site: opts.site },
        storage: { path: this.dbPath, synchronous: 'normal' },
        mqtt: { url: opts.mqttUrl, keepaliveS: opts.keepaliveS ?? 5, statusIntervalS: 5, ackTimeoutMs: 3_000, clientId: `gate-${opts.gate}` },
        central: { keys: { [centralKey.kid]: centralKey.raw } },
        privacy: { idHashKey: '00112233445566778899aabbccddeeff' },
        readers: [{ id: 'entry', type: 'sim', direction: 'in', repeatMs: 0 }],
        gpio: { backend: 'sim', relays: { entry: { line: 17 } }, inputs: { passage: { line: 22 } } },
        access: { duplicateTapMs: 0 },
        log: { level: process.env.CHAOS_DEBUG ? 'debug' : 'info' },
      }),
    );
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    this.out = '';
    const env = process.env.CHAOS_DEBUG ? { ...process.env, DEBUG: 'mqttjs*' } : process.env;
    const c = spawn(process.execPath, [DAEMON, '--config', this.configPath, '--data-dir', this.opts.dir], { stdio: ['pipe', 'pipe', 'pipe'], cwd: this.opts.dir, env });
    this.child = c;
    if (process.env.CHAOS_DEBUG) {
      const f = `/tmp/chaos-${this.opts.gate}-${Date.now()}-${process.pid}.log`;
      const { createWriteStream } = await import('node:fs');
      const w = createWriteStream(f);
      c.stdout!.pipe(w);
      c.stderr!.pipe(w);
    }
    c.stdout!.on('data', (d: Buffer) => (this.out = (this.out + d.toString()).slice(-200_000)));
    c.stderr!.on('data', (d: Buffer) => (this.out = (this.out + d.toString()).slice(-200_000)));
    c.stdin!.on('error', () => {}); // EPIPE after a kill
    await waitFor('the gate to be ready', () => /"msg":"ready"/.test(this.out) || c.exitCode !== null, 30_000, () => this.log());
    if (c.exitCode !== null) throw new Error(`gate exited with ${c.exitCode}:\n${this.log()}`);
  }

  /** Present one credential line (card UID, ID number or pass token) at the reader. */
  tap(line: string): void {
    this.child?.stdin?.write(`${line}\n`);
  }

  /** Present `n` unknown cards, `spacingMs` apart: n denied access events. */
  async burst(n: number, spacingMs = 5): Promise<void> {
    for (let i = 0; i < n; i++) {
      const uid = (0xc0000000 + this.tapCount++).toString(16).toUpperCase();
      this.child?.stdin?.write(`${uid}\n`);
      if (spacingMs) await sleep(spacingMs);
    }
  }

  /** A crash (SIGKILL) or a clean stop (SIGTERM, bounded). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), STOP_MS);
    await exited;
    clearTimeout(t);
  }

  log(): string {
    return this.out.slice(-6_000);
  }

  /** For a failure's diagnosis: alive (with what each thread is doing, on Linux), or how it ended. */
  processState(): string {
    const c = this.child;
    if (!c) return 'not started';
    if (c.exitCode !== null || c.signalCode !== null) return `exited (code ${c.exitCode}, signal ${c.signalCode})`;
    const threads: string[] = [];
    try {
      for (const t of readdirSync(`/proc/${c.pid}/task`)) {
        const at = (f: string) => {
          try {
            return readFileSync(`/proc/${c.pid}/task/${t}/${f}`, 'utf8').trim();
          } catch {
            return '?';
          }
        };
        const stat = at('stat');
        const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        threads.push(`${t} ${at('comm')} state=${state[0]} utime=${state[11]} wchan=${at('wchan')} syscall=${at('syscall').split(' ')[0]}`);
      }
    } catch {
      // not Linux, or gone meanwhile
    }
    return `running (pid ${c.pid})${threads.length ? `\n  ${threads.join('\n  ')}` : ''}`;
  }

  /** The gate's own journal (read-only, the daemon may be running): seq → hash. */
  journal(): Map<number, string> {
    const db = new Database(this.dbPath, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT seq, hash FROM journal ORDER BY seq').all() as Array<{ seq: number; hash: string }>;
      return new Map(rows.map((r) => [r.seq, r.hash]));
    } finally {
      db.close();
    }
  }

  lastSeq(): number {
    const db = new Database(this.dbPath, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT coalesce(max(seq), 0) FROM journal').pluck().get() as number) ?? 0;
    } finally {
      db.close();
    }
  }
}

export class CollectorProcess {
  store: CentralStore | undefined;
  private collector: Collector | undefined;
  private out = '';

  constructor(
    readonly dbPath: string,
    private readonly url: string,
  ) {}

  async start(): Promise<void> {
    this.store = new CentralStore(this.dbPath);
    const log = createLogger({ level: 'info', destination: { write: (l: string) => void (this.out = (this.out + l).slice(-100_000)) } });
    this.collector = new Collector({ store: this.store, broker: { url: this.url, clientId: 'chaos-central' }, signer: centralKey.signer, log, gapGraceMs: 5_000 });
    await this.collector.start();
  }

  async stop(): Promise<void> {
    await this.collector?.stop();
    this.store?.close();
    this.collector = undefined;
    this.store = undefined;
  }

  log(): string {
    return this.out.slice(-4_000);
  }
}

/** The gate's retained status as the collector stored it. */
export function pendingOf(store: CentralStore, gate: string): number | undefined {
  const s = store.statuses().find((x) => x.gate === gate)?.status as { outbox?: { pending?: number } } | undefined;
  return s?.outbox?.pending;
}

/**
 * Wait until the collector holds every event of the gate's journal and the
 * gate says its outbox is empty, then check: each event once, same hash as
 * the gate's, seq 1..N with no gap, chain verified.
 */
export async function expectDrained(gate: GateProcess, central: CollectorProcess, timeoutMs: number, broker?: Mosquitto): Promise<number> {
  const id = gate.opts.gate;
  await waitFor(
    'the collector to hold every event and the gate outbox to drain',
    () => {
      const st = central.store!.state(id);
      return !!st && st.contiguousSeq === gate.lastSeq() && pendingOf(central.store!, id) === 0;
    },
    timeoutMs,
    () => `central: ${JSON.stringify(central.store!.state(id))} pending=${pendingOf(central.store!, id)} gate lastSeq=${gate.lastSeq()} gate process ${gate.processState()}\n--- gate log\n${gate.log()}\n--- collector log\n${central.log()}${broker ? `\n--- broker log\n${broker.log().slice(-3_000)}` : ''}`,
  );
  const journal = gate.journal();
  const n = journal.size;
  const stored = central.store!.events(id, 1, Number.MAX_SAFE_INTEGER, 10_000_000);
  expect(stored.map((e) => e.seq)).toEqual([...journal.keys()]);
  expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  expect(stored.every((e) => journal.get(e.seq) === e.hash)).toBe(true);
  const st = central.store!.state(id)!;
  expect(st).toMatchObject({ contiguousSeq: n, verifiedSeq: n, maxSeq: n });
  expect(st.brokenSeq).toBeUndefined();
  expect(central.store!.anomalies(id).filter((a) => a.kind !== 'bad_payload')).toEqual([]);
  return n;
}

export function verifyCollectorFile(path: string): void {
  const db = new Database(path, { readonly: true });
  try {
    for (const v of verifyCentralDb(db)) expect(v.result, v.gate).toMatchObject({ ok: true });
  } finally {
    db.close();
  }
}

/**
 * The usual chaos world, set up before the file's tests and torn down after:
 * a mosquitto, a collector process on its own database, and one gate process.
 */
export interface ChaosWorld {
  broker: Mosquitto;
  central: CollectorProcess;
  gate: GateProcess;
}

export function chaosWorld(gateId: string): ChaosWorld {
  const world = {} as ChaosWorld;
  const tmp = tempDir();
  beforeAll(async () => {
    requireBuiltDaemon();
    world.broker = await startMosquitto();
    world.central = new CollectorProcess(join(tmp.dir, 'central.db'), world.broker.url);
    await world.central.start();
    world.gate = new GateProcess({ dir: join(tmp.dir, gateId), gate: gateId, site: 's1', mqttUrl: world.broker.url });
    await world.gate.start();
  }, 60_000);
  afterAll(async () => {
    await world.gate?.stop();
    await world.central?.stop();
    await world.broker?.stop();
    tmp.cleanup();
  }, 30_000);
  return world;
}

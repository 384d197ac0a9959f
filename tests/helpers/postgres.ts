/**
 * A real PostgreSQL (Debian's `postgresql` package) for tests and benches:
 * initdb in a temporary directory, `postgres` on a free loopback port and a
 * socket directory of its own, bounded start (waits until a query answers)
 * and bounded stop (SIGINT = fast shutdown, then SIGKILL). PostgreSQL refuses
 * to run as root, and CI runs as root: then the cluster belongs to the
 * unprivileged `postgres` user the package creates, and the server is
 * spawned with its uid/gid (no su/runuser in between, so signals and the pid
 * are the server's own).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './mosquitto.js';
import { stopChild, until, untilReady } from './until.js';

export interface Postgres {
  port: number;
  dir: string;
  /** The postmaster's pid (for CPU accounting in benches). */
  pid(): number | undefined;
  /** A URL for a fresh database of this name (created now). */
  createDatabase(name: string): Promise<string>;
  url(db: string): string;
  /** Fast shutdown (SIGINT, bounded) and removal of the temp dir. */
  stop(): Promise<void>;
  /** Fast shutdown then start again on the same port and data directory. */
  restart(): Promise<void>;
  /** SIGKILL the postmaster (a crash: the next start runs recovery), then start again. */
  crashRestart(): Promise<void>;
  log(): string;
}

export interface PostgresOptions {
  /** fsync and synchronous commit (default false: tests; a bench says true). */
  durable?: boolean;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
}

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/** The newest installed server's bin directory (Debian: /usr/lib/postgresql/<major>/bin). */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const m of majors) if (existsSync(join(root, m, 'bin', 'postgres'))) return join(root, m, 'bin');
  throw new Error('PostgreSQL server not found under /usr/lib/postgresql (scripts/setup.sh installs Debian\'s postgresql)');
}

function owner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<Postgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'gc-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const who = owner();
  if (who) chownSync(dir, who.uid, who.gid);
  const as = who ? { uid: who.uid, gid: who.gid } : {};
  execFileSync(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'], {
    ...as,
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 60_000,
  });
  const port = await freePort();
  const durable = opts.durable === true;
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir,
    fsync: durable ? 'on' : 'off',
    synchronous_commit: durable ? 'on' : 'off',
    full_page_writes: durable ? 'on' : 'off',
    max_connections: '200',
    shared_buffers: '128MB',
    logging_collector: 'off',
    ...opts.settings,
  };
  const args = ['-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  let child: ChildProcess | undefined;
  let stderr = '';

  async function launch(): Promise<void> {
    const c = spawn(join(bin, 'postgres'), args, { ...as, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-50_000)));
    child = c;
    const answers = async (): Promise<boolean> => {
      if (c.exitCode !== null) throw new Error(`postgres exited with ${c.exitCode}: ${stderr.slice(-2_000)}`);
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1_000 });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return true;
      } catch {
        await client.end().catch(() => {});
        return false;
      }
    };
    await untilReady(c, answers, { what: `postgres to answer on ${port}`, timeoutMs: START_TIMEOUT_MS, intervalMs: 100, diag: () => stderr });
  }

  async function terminate(signal: NodeJS.Signals): Promise<void> {
    const c = child;
    child = undefined;
    if (!c) return;
    const workers = signal === 'SIGKILL' && c.pid ? childrenOf(c.pid) : [];
    await stopChild(c, signal, STOP_TIMEOUT_MS);
    if (signal === 'SIGKILL') {
      // Backends outlive a SIGKILLed postmaster until they notice; a new
      // postmaster refuses to start while they hold the shared memory.
      // Those still there after STOP_TIMEOUT_MS are killed.
      await until(() => !workers.some(alive), { what: 'the killed postmaster\'s backends to exit', timeoutMs: STOP_TIMEOUT_MS, intervalMs: 100 }).catch(() => undefined);
      for (const w of workers) if (alive(w)) process.kill(w, 'SIGKILL');
    }
  }

  const url = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  await launch();
  return {
    port,
    dir,
    pid: () => child?.pid,
    url,
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name}`);
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      await terminate('SIGINT');
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await terminate('SIGINT');
      await launch();
    },
    async crashRestart() {
      await terminate('SIGKILL');
      await launch();
    },
    log() {
      return stderr + (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
    },
  };
}

/** Pids of the processes whose parent is `pid` (a postmaster's backends and workers). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

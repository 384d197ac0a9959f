/**
 * The admin page as a daemon component: on start, make the first admin
 * account if there is none, listen on `admin.listen` and schedule the daily
 * visitor purge; on stop, undo both (open live streams are closed first).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Lifecycle } from '../types.js';
import type { AdminDeps } from './deps.js';
import { DEFAULT_KDF, hashPassword, randomPassword } from './password.js';
import { buildAdminServer } from './server.js';
import { VisitorPurge } from './visitor-purge.js';

export interface AdminServiceOptions {
  /** "host:port" (config admin.listen). */
  listen: string;
  /** privacy.retention.visitorDays */
  visitorDays: number;
  /** Where the first admin's password is written (default `${dataDir}/admin-initial-password`). */
  initialPasswordFile?: string;
  purgeIntervalMs?: number;
  purgeFirstRunMs?: number;
  /** admin.tls: PEM files read at start (a missing or unreadable file stops the start, naming it). */
  tls?: { cert: string; key: string };
}

/**
 * First start: an `admin` account with a random password, written to a file
 * only its owner can read (0600, created exclusively). The log names the
 * file, never the password. Returns the file path, or undefined when
 * accounts already exist.
 */
export async function ensureInitialAdmin(deps: AdminDeps, file?: string): Promise<string | undefined> {
  const accounts = deps.store.accounts;
  if (accounts.count() > 0) return undefined;
  const path = resolve(file ?? join(deps.dataDir, 'admin-initial-password'));
  const password = randomPassword();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // The file first: should the account insert fail, a rerun rewrites it; the other order could lock everyone out.
  writeFileSync(path, `account: admin\npassword: ${password}\n`, { mode: 0o600 });
  // `mode` applies only when the file is new: narrow a leftover one too.
  chmodSync(path, 0o600);
  accounts.create({ name: 'admin', role: 'admin', passwordHash: await hashPassword(password, deps.kdf ?? DEFAULT_KDF) }, deps.clock());
  deps.log.warn({ file: path }, 'first start: created admin account "admin"; its password is in this file (change it after signing in)');
  return path;
}

function readTls(paths: { cert: string; key: string }): { cert: Buffer; key: Buffer } {
  const read = (what: 'cert' | 'key') => {
    try {
      return readFileSync(paths[what]);
    } catch (err) {
      throw Object.assign(new Error(`admin.tls.${what}: cannot read ${paths[what]}: ${(err as Error).message}`), { code: 'BAD_TLS' });
    }
  };
  return { cert: read('cert'), key: read('key') };
}

export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const port = Number(listen.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw Object.assign(new Error(`admin.listen: expected "host:port", got "${listen}"`), { code: 'BAD_LISTEN' });
  }
  // "[::1]:8080": the brackets belong to the URL form, not to the address.
  return { host: listen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port };
}

export class AdminService implements Lifecycle {
  private app: FastifyInstance | undefined;
  private readonly purge: VisitorPurge;
  private https = false;

  constructor(
    private readonly deps: AdminDeps,
    private readonly opts: AdminServiceOptions,
  ) {
    this.purge = new VisitorPurge({
      gate: deps.gate,
      store: deps.store,
      dataDir: deps.dataDir,
      visitorDays: opts.visitorDays,
      log: deps.log,
      clock: deps.clock,
      intervalMs: opts.purgeIntervalMs,
      firstRunMs: opts.purgeFirstRunMs,
    });
  }

  async start(): Promise<void> {
    await ensureInitialAdmin(this.deps, this.opts.initialPasswordFile);
    const { host, port } = parseListen(this.opts.listen);
    const tls = this.opts.tls ? readTls(this.opts.tls) : this.deps.tls;
    this.app = await buildAdminServer({ ...this.deps, ...(tls ? { tls } : {}) });
    this.https = tls !== undefined;
    await this.app.listen({ host, port });
    this.purge.start();
    this.deps.log.info({ url: this.url() }, 'admin page listening');
  }

  async stop(): Promise<void> {
    this.purge.stop();
    const app = this.app;
    this.app = undefined;
    if (app) await app.close();
  }

  /** http(s)://host:port actually bound (port 0 resolved). */
  url(): string | undefined {
    const addr = this.app?.server.address();
    if (!addr || typeof addr === 'string') return undefined;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return `${this.https ? 'https' : 'http'}://${host}:${addr.port}`;
  }

  /** The daily purge, for a command or a test to run now. */
  runPurge() {
    return this.purge.run();
  }
}

/**
 * The admin server over the real gate: a real Store on a temp file, the real
 * Gate orchestrator with the sim GPIO backend and SimReaders fed through a
 * stream (the same line parsing as a serial reader), the real registration
 * outbox, passes signed with a real Ed25519 key. Logs are captured so tests
 * can check no personal data reaches them.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { parseConfig } from '../../src/config.js';
import { Gate } from '../../src/controller/gate.js';
import { signPass } from '../../src/controller/pass.js';
import { buildGpio, type GpioSet } from '../../src/drivers/gpio/index.js';
import { SimReader } from '../../src/drivers/readers/index.js';
import { createLogger, type Logger } from '../../src/log.js';
import { openStore, type Store } from '../../src/store/index.js';
import { RegistrationOutbox } from '../../src/store/registrations.js';
import { AccountStore, type AccountRole } from '../../src/store/accounts.js';
import type { JournalEvent } from '../../src/store/types.js';
import { buildAdminServer } from '../../src/admin/server.js';
import type { AdminDeps } from '../../src/admin/deps.js';
import { hashPassword } from '../../src/admin/password.js';

export const ID_HASH_KEY = Buffer.alloc(32, 7);
/** GB 11643 valid numbers (check digits computed, plausible birth dates). */
export const VALID_ID = '11010519491231002X';
export const VALID_ID_2 = '440524198001010013';
export const VALID_ID_3 = '320102199003071239';
export const VALID_ID_4 = '440301198506150024';
export const BAD_ID = '110105194912310020';
export const PASSWORDS = { admin: 'admin-password-1', guard: 'guard-password-1' };

export interface Harness {
  dir: string;
  store: Store;
  gate: Gate;
  gpio: GpioSet;
  app: FastifyInstance;
  deps: AdminDeps;
  outbox: RegistrationOutbox;
  passKey: KeyObject;
  /** Added to Date.now() by every clock: time travel for windows and purges. */
  offset: { ms: number };
  /** Every log line written so far. */
  logs: () => string;
  /** Type a line on a reader (card UID hex, ID number or GP1 token). */
  type(reader: 'entry' | 'exit', line: string): void;
  events(): JournalEvent[];
  lastOf(type: string): JournalEvent | undefined;
  close(): Promise<void>;
}

export async function makeHarness(over: Partial<AdminDeps> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'gc-admin-'));
  const offset = { ms: 0 };
  const clock = () => Date.now() + offset.ms;
  let logText = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logText += String(chunk);
      cb();
    },
  });
  const log: Logger = createLogger({ level: 'debug', destination: sink });
  const store = openStore({ path: join(dir, 'gate.db'), synchronous: 'normal', gateId: 'g1' });
  const cfg = parseConfig({
    gate: { id: 'g1', site: 's1' },
    privacy: { idHashKey: ID_HASH_KEY.toString('hex') },
    readers: [
      { id: 'entry', type: 'sim', direction: 'in', repeatMs: 0 },
      { id: 'exit', type: 'sim', direction: 'out', repeatMs: 0 },
    ],
    gpio: {
      backend: 'sim',
      // Every relay and LED change, appended as it happens: tests check nothing was energized.
      trace: join(dir, 'gpio.trace'),
      relays: { entry: { line: 17 }, exit: { line: 27 } },
      leds: { green: { line: 5 }, red: { line: 6 } },
      inputs: { passage: { line: 22 }, door: { line: 23 } },
    },
  });
  const gpio = buildGpio(cfg.gpio, { log, clock });
  const inputs = { entry: new PassThrough(), exit: new PassThrough() };
  const readers = cfg.readers.map(
    (r) => new SimReader(r, { log, clock, input: inputs[r.id as 'entry' | 'exit'], flushMs: 5 }),
  );
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const gate = new Gate({
    options: {
      gateId: 'g1',
      site: 's1',
      version: 'test',
      access: { ...cfg.access, duplicateTapMs: 0 },
      pulseMs: { in: 500, out: 500 },
      idHashKey: ID_HASH_KEY,
    },
    store,
    readers,
    gpio,
    passKeys: () => [publicKey],
    passKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    log,
    clock,
  });
  await gpio.start();
  await gate.start();
  for (const r of readers) await r.start();
  const outbox = new RegistrationOutbox(store.db, clock);
  const deps: AdminDeps = {
    gate,
    store,
    registrations: outbox,
    passSigner: { sign: (body) => signPass(body, privateKey) },
    idHashKey: ID_HASH_KEY,
    dataDir: dir,
    log,
    clock,
    clockSynced: () => true,
    syncStatus: () => ({ connected: false, pending: outbox.count() }),
    ...over,
  };
  const app = await buildAdminServer(deps);
  const events = () => store.journal.range(1, Number.MAX_SAFE_INTEGER, 100_000);
  return {
    dir,
    store,
    gate,
    gpio,
    app,
    deps,
    outbox,
    passKey: publicKey,
    offset,
    logs: () => logText,
    type: (reader, line) => inputs[reader].write(`${line}\r\n`),
    events,
    lastOf: (type) => events().filter((e) => e.type === type).pop(),
    close: async () => {
      await app.close();
      for (const r of readers) await r.stop();
      await gate.stop();
      await gpio.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function addAccount(h: Harness, name: string, role: AccountRole, password: string): Promise<void> {
  new AccountStore(h.store.db).create({ name, role, passwordHash: await hashPassword(password) }, Date.now());
}

export interface Session {
  cookie: string;
  csrf: string;
}

export async function login(h: Harness, name: string, password: string): Promise<Session> {
  const res = await h.app.inject({ method: 'POST', url: '/api/login', payload: { name, password } });
  if (res.statusCode !== 200) throw new Error(`login ${name}: ${res.statusCode} ${res.body}`);
  return { cookie: sessionCookie(res), csrf: res.json().csrf };
}

export function sessionCookie(res: LightMyRequestResponse): string {
  const set = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const c = set.find((s) => s.startsWith('gc_session='));
  if (!c) throw new Error('no session cookie');
  return c.split(';')[0]!;
}

/** inject with the session cookie and CSRF header. */
export function call(h: Harness, s: Session, method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) {
  return h.app.inject({
    method: method as 'GET',
    url,
    payload: payload as string,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, ...headers },
  });
}

/** Wait until `fn` returns something truthy (the sim reader parses on the next turns). */
export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 3_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

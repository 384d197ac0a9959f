/** Builds a real Gate over a real store on a temp file, with recording outputs and fake inputs. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gate, type GateOptions } from '../../src/controller/gate.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { GpioSet } from '../../src/drivers/types.js';
import type { CredentialReader, ReaderEventMap, RawCredential } from '../../src/drivers/types.js';
import type { Direction } from '../../src/types.js';
import { silentLogger } from '../../src/log.js';
import { recordingOutputs } from './fakes/recording-output.js';
import { FakeInput } from './fakes/fake-input.js';

export class FakeReader extends EventEmitter<ReaderEventMap> implements CredentialReader {
  readonly type = 'sim' as const;
  connected = true;
  constructor(readonly id: string, readonly direction: Direction) {
    super();
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  tap(cred: RawCredential, at: number): void {
    this.emit('credential', cred, at);
  }
}

export const ID_HASH_KEY = Buffer.alloc(32, 7);

export interface Harness {
  gate: Gate;
  store: Store;
  dir: string;
  now: { ms: number };
  outputs: ReturnType<typeof recordingOutputs<'entry' | 'exit' | 'green' | 'red' | 'buzzer'>>['outputs'];
  log: ReturnType<typeof recordingOutputs>['log'];
  inputs: { passage: FakeInput; door: FakeInput; exitButton: FakeInput; fireAlarm: FakeInput; tamper: FakeInput };
  readers: { entry: FakeReader; exit: FakeReader };
  ownKey: KeyObject;
  close(): Promise<void>;
  reopen(): Promise<Harness>;
}

export async function makeGate(opts: { dir?: string; access?: Partial<GateOptions['access']>; nowMs?: number } = {}): Promise<Harness> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'gc-gate-'));
  const now = { ms: opts.nowMs ?? Date.parse('2026-11-23T10:00:00+08:00') };
  const clock = () => now.ms;
  const store = openStore({ path: join(dir, 'gate.db'), synchronous: 'normal', gateId: 'g1' });
  const { outputs, log } = recordingOutputs(['entry', 'exit', 'green', 'red', 'buzzer'] as const, clock);
  const inputs = {
    passage: new FakeInput('passage'),
    door: new FakeInput('door'),
    exitButton: new FakeInput('exitButton'),
    fireAlarm: new FakeInput('fireAlarm'),
    tamper: new FakeInput('tamper'),
  };
  const gpio: GpioSet = {
    outputs,
    inputs,
    start: async () => {},
    stop: async () => {},
  };
  const readers = { entry: new FakeReader('entry', 'in'), exit: new FakeReader('exit', 'out') };
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const gate = new Gate({
    options: {
      gateId: 'g1',
      site: 's1',
      version: 'test',
      access: {
        passageTimeoutMs: 8000,
        duplicateTapMs: 3000,
        antiPassback: true,
        escortWindowMs: 30_000,
        doorHeldMs: 30_000,
        ...opts.access,
      },
      pulseMs: { in: 500, out: 500 },
      idHashKey: ID_HASH_KEY,
    },
    store,
    readers: [readers.entry, readers.exit],
    gpio,
    passKeys: () => [publicKey],
    passKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    log: silentLogger(),
    clock,
  });
  await gate.start();
  const h: Harness = {
    gate,
    store,
    dir,
    now,
    outputs,
    log,
    inputs,
    readers,
    ownKey: privateKey,
    close: async () => {
      await gate.stop();
      store.close();
    },
    reopen: async () => {
      await h.close();
      return makeGate({ dir, access: opts.access, nowMs: now.ms });
    },
  };
  return h;
}

export function cleanup(h: Harness): void {
  rmSync(h.dir, { recursive: true, force: true });
}

/**
 * Whitelist snapshot chunks are checked (envelope signature, frame, every
 * record against its schema) in a worker thread, not on the gate's loop.
 *
 * Why a thread and not time slices: JSON.parse internalizes the short
 * strings of the records (person ids, names of up to 10 characters) in the
 * isolate's string table, and V8 grows that table by rehashing it in one go
 * — 5, 10, 20, 45, 90 ms pauses as a million-record snapshot goes through,
 * whatever the slice size. A worker has its own isolate and string table;
 * the gate's loop only ever holds the chunk's body as UTF-8 bytes (memory
 * outside the JS heap, handed over by the worker without a copy), and the
 * apply reads the records out of that text with SQLite's json_each
 * (store/snapshot.ts), so a snapshot never parses on the gate's loop at all.
 *
 * Why bytes and not the text as a string: a million-record snapshot is
 * 200 MB of chunk bodies. As 100 KB strings they all went through the gate's
 * young generation, and every scavenge copies the ones still waiting to be
 * stored; as transferred bytes they stay outside the JS heap.
 *
 * The worker starts with the first chunk and ends after a quiet spell.
 */
import { Worker } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import type { Logger } from '../log.js';
import { workerFile } from '../worker-file.js';
import { openEnvelope } from './protocol/envelope.js';
import { chunkFrameSchema, credentialSchema, describeZodError, personSchema, scheduleSchema } from './protocol/schemas.js';

export type ChunkCheckCode = 'OVERSIZE' | 'BAD_JSON' | 'UNKNOWN_KID' | 'BAD_SIGNATURE' | 'BAD_SCHEMA' | 'CHECK_FAILED';

export type ChunkCheck =
  | {
      ok: true;
      version: number;
      index: number;
      /** The signed body text, as received, in UTF-8 (its own ArrayBuffer: the worker transfers it). */
      body: Uint8Array;
    }
  | { ok: false; code: ChunkCheckCode; message: string };

/**
 * The check itself (pure, synchronous; runs in the worker). Chunks of a
 * version not newer than `localVersion` are already applied: their records
 * are not checked again.
 */
export function checkChunkPayload(
  payload: Uint8Array,
  keys: ReadonlyMap<string, KeyObject>,
  maxBytes: number,
  localVersion: number,
): ChunkCheck {
  const env = openEnvelope(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), keys, maxBytes);
  if (!env.ok) return env;
  const frame = chunkFrameSchema.safeParse(env.body);
  if (!frame.success) return { ok: false, code: 'BAD_SCHEMA', message: describeZodError(frame.error) };
  const { version, index } = frame.data;
  if (version > localVersion) {
    const lists = [
      ['people', frame.data.people, personSchema],
      ['credentials', frame.data.credentials, credentialSchema],
      ['schedules', frame.data.schedules, scheduleSchema],
    ] as const;
    for (const [name, rows, schema] of lists) {
      for (let i = 0; i < rows.length; i++) {
        const r = schema.safeParse(rows[i]);
        if (!r.success) return { ok: false, code: 'BAD_SCHEMA', message: `${name}[${i}]: ${describeZodError(r.error)}` };
      }
    }
  }
  return { ok: true, version, index, body: new TextEncoder().encode(env.bodyText) };
}

/** What the worker is started with. */
export interface ChunkWorkerData {
  keys: Array<[kid: string, spkiPem: string]>;
  maxBytes: number;
}

export interface ChunkWorkerRequest {
  id: number;
  payload: Uint8Array;
  localVersion: number;
}

export type ChunkWorkerReply = { id: number } & ChunkCheck;

const IDLE_MS = 30_000;

export class ChunkChecker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (r: ChunkCheck) => void>();
  private idle: NodeJS.Timeout | undefined;
  private readonly data: ChunkWorkerData;

  constructor(
    keys: ReadonlyMap<string, KeyObject>,
    maxBytes: number,
    private readonly log: Logger,
  ) {
    this.data = {
      keys: [...keys].map(([kid, key]) => [kid, key.export({ type: 'spki', format: 'pem' }).toString()]),
      maxBytes,
    };
  }

  /** Check one chunk off the loop. Never rejects: a dead worker is a CHECK_FAILED result. */
  check(payload: Uint8Array, localVersion: number): Promise<ChunkCheck> {
    const worker = this.ensure();
    if (this.idle) clearTimeout(this.idle);
    const id = this.nextId++;
    return new Promise<ChunkCheck>((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, payload, localVersion } satisfies ChunkWorkerRequest);
    });
  }

  async stop(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    const w = this.worker;
    this.worker = undefined;
    this.failAll('chunk checker stopped');
    if (w) await w.terminate();
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerFile(import.meta.url, './chunk-check-worker.js'), { workerData: this.data });
    worker.unref();
    worker.on('message', (m: ChunkWorkerReply) => {
      const done = this.pending.get(m.id);
      this.pending.delete(m.id);
      const { id: _id, ...result } = m;
      done?.(result);
      if (!this.pending.size && this.worker === worker) {
        this.idle = setTimeout(() => {
          if (this.worker === worker && !this.pending.size) {
            this.worker = undefined;
            void worker.terminate();
          }
        }, IDLE_MS);
        this.idle.unref();
      }
    });
    worker.on('error', (err) => {
      this.log.error({ err }, 'whitelist chunk checker failed');
      if (this.worker === worker) this.worker = undefined;
      this.failAll(`chunk checker failed: ${err.message}`);
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(`chunk checker exited (${code})`);
    });
    this.worker = worker;
    return worker;
  }

  private failAll(message: string): void {
    for (const done of this.pending.values()) done({ ok: false, code: 'CHECK_FAILED', message });
    this.pending.clear();
  }
}

/**
 * WAL checkpoints off the hot path. The main connection runs with
 * wal_autocheckpoint=0; this component runs PRAGMA wal_checkpoint(PASSIVE)
 * every few seconds in a worker thread with its own connection. PASSIVE never
 * takes the writer lock, so a commit never waits for it. Once a checkpoint has
 * copied everything, the WAL wraps to its start: done by the worker itself
 * while the gate is quiet (and only then is a file over journal_size_limit
 * cut back, db.ts), otherwise by the gate's next commit, which never cuts.
 * Without this component the WAL would grow without bound.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import { workerFile } from '../worker-file.js';
import { StoreError, WAL_SIZE_LIMIT_BYTES } from './db.js';
import { allCopied, readWalIndex, usedBytes } from './wal-index.js';

export interface CheckpointResult {
  mode: 'PASSIVE';
  /** 1 when a reader or writer kept it from finishing (it retries next tick). */
  busy: number;
  /** Frames in the WAL and frames copied into the database. */
  log: number;
  checkpointed: number;
  walBytes: number;
  /** This connection wrapped the WAL after copying it all (the fsync of the new WAL header off the gate's thread). */
  wrapped: boolean;
  ms: number;
}

export interface WalCheckpointerOptions {
  /** The database file (not ':memory:'). */
  path: string;
  /** At most one checkpoint this often. */
  intervalMs?: number;
  /** Checkpoint only after this long without a write (see noteWrite)… */
  quietMs?: number;
  /** …unless more than this much of the WAL is in use (frames not yet wrapped over). */
  forceBytes?: number;
  /** The gate connection's setting (storage.synchronous): the worker's one commit (the wrap) matches it. */
  synchronous?: 'normal' | 'full';
  log: Logger;
  /** Called on the main thread after each checkpoint (metrics, tests). */
  onCheckpoint?: (r: CheckpointResult) => void;
  /** room(): bulk writers wait while more than this much of the WAL is in use (default half of WAL_SIZE_LIMIT_BYTES: the WAL then wraps before the file outgrows it). */
  roomBytes?: number;
}

/** Bytes of the WAL in use (frames since the last wrap); 0 when there is no -shm file. */
export function walUsedBytes(dbPath: string): number {
  const w = readWalIndex(dbPath);
  return w ? usedBytes(w) : 0;
}

/**
 * Whether every frame of the WAL is copied into the database (nBackfill ==
 * mxFrame): the next write transaction then wraps the WAL to its start. A
 * checkpoint that reported complete may no longer be: a tap can commit
 * between its end and the bulk writer's next transaction.
 */
export function walCopied(dbPath: string): boolean {
  const w = readWalIndex(dbPath);
  return w !== undefined && allCopied(w);
}

/** What the worker (checkpointer-worker.ts) is started with. */
export interface CheckpointWorkerData {
  path: string;
  intervalMs: number;
  quietMs: number;
  forceBytes: number;
  /** Int32 [0]: the gate's last write, ms since `epoch` (noteWrite). */
  activity: SharedArrayBuffer;
  epoch: number;
  synchronous: 'normal' | 'full';
  walLimit: number;
}

export type CheckpointWorkerMessage = ({ type: 'checkpoint' } & CheckpointResult) | { type: 'ready' } | { type: 'error'; message: string };

const STOP_TIMEOUT_MS = 5_000;

export class WalCheckpointer {
  private worker: Worker | undefined;
  private readonly epoch = Date.now();
  private readonly activity = new Int32Array(new SharedArrayBuffer(4));
  private readonly opts: Required<Omit<WalCheckpointerOptions, 'onCheckpoint'>> & Pick<WalCheckpointerOptions, 'onCheckpoint'>;
  /** room() callers waiting for the next checkpoint result. */
  private readonly waiters: Array<(r: CheckpointResult | undefined) => void> = [];

  constructor(opts: WalCheckpointerOptions) {
    this.opts = { intervalMs: 2_000, quietMs: 250, forceBytes: 8 * 1024 * 1024, roomBytes: WAL_SIZE_LIMIT_BYTES / 2, synchronous: 'normal', ...opts };
  }

  /** Resolves once the worker has its connection open. */
  async start(): Promise<void> {
    if (this.worker) return;
    const { path, intervalMs, quietMs, forceBytes, log, synchronous } = this.opts;
    const data: CheckpointWorkerData = { path, intervalMs, quietMs, forceBytes, activity: this.activity.buffer as SharedArrayBuffer, epoch: this.epoch, synchronous, walLimit: WAL_SIZE_LIMIT_BYTES };
    const worker = new Worker(workerFile(import.meta.url, './checkpointer-worker.js'), { workerData: data });
    this.worker = worker;
    let started = false;
    await new Promise<void>((resolve, reject) => {
      const fail = (message: string) => {
        if (started) return;
        if (this.worker === worker) this.worker = undefined;
        reject(new StoreError('CHECKPOINTER_FAILED', `WAL checkpointer for ${path}: ${message}`));
      };
      worker.on('message', (m: CheckpointWorkerMessage) => {
        if (m.type === 'ready') {
          started = true;
          log.info({ intervalMs }, 'wal checkpointer started');
          resolve();
        } else if (m.type === 'error') {
          // After start: one failed tick (disk error, locked file); the next tick retries.
          log.warn({ err: m.message }, 'wal checkpoint failed');
          this.settle(undefined);
          fail(m.message);
        } else {
          const { type: _t, ...r } = m;
          if (r.busy) log.debug(r, 'wal checkpoint busy');
          this.opts.onCheckpoint?.(r);
          this.settle(r);
        }
      });
      worker.once('error', (err) => {
        log.error({ err }, 'wal checkpointer crashed');
        fail(err.message);
      });
      worker.once('exit', (code) => {
        this.settle(undefined);
        if (this.worker === worker) {
          // Not asked to stop: the WAL will grow until the next start.
          this.worker = undefined;
          if (started) log.error({ code }, 'wal checkpointer exited');
        }
        fail(`worker exited (${code})`);
      });
    });
  }

  /**
   * The gate just wrote (a tap, an event): one atomic store, cheap enough for
   * the hot path. The worker waits for quietMs without one before it checkpoints.
   */
  noteWrite(): void {
    Atomics.store(this.activity, 0, Date.now() - this.epoch);
  }

  /** Ask for one checkpoint now (tests, before a backup). The result arrives via onCheckpoint. */
  checkpointNow(): void {
    this.worker?.postMessage('now');
  }

  /**
   * Backpressure for bulk writers (a snapshot apply), awaited between their
   * transactions. Resolves at once while less than roomBytes of the WAL is
   * in use. Otherwise it asks for checkpoints until one has copied every
   * frame: the writer's next commit then wraps the WAL and writes over the
   * file from its start. Without this a writer that never pauses keeps the
   * WAL from ever wrapping (each checkpoint ends behind the newest frames),
   * and the file grows by every byte written: hundreds of MB on an SD card
   * for a million-credential snapshot, in writes that extend the file, which
   * ext4 holds up behind the checkpoint's fsync (measured 10-20 ms).
   * Gives up after `maxWaitMs` (the WAL then grows rather than the apply stalling).
   */
  async room(maxWaitMs = 10_000): Promise<void> {
    const { path, roomBytes } = this.opts;
    // Room: little of the WAL in use, or all of it copied (the caller's next commit wraps it).
    const room = () => {
      const w = readWalIndex(path);
      return !w || usedBytes(w) < roomBytes || allCopied(w);
    };
    if (!this.worker || room()) return;
    const end = Date.now() + maxWaitMs;
    while (this.worker && Date.now() < end) {
      const r = await new Promise<CheckpointResult | undefined>((resolve) => {
        this.waiters.push(resolve);
        this.checkpointNow();
      });
      // Not the checkpoint's own report: a tap committed since it ended leaves frames to copy.
      if (!r || room()) return;
      await new Promise((res) => setTimeout(res, 5));
    }
  }

  private settle(r: CheckpointResult | undefined): void {
    for (const w of this.waiters.splice(0)) w(r);
  }

  /** One last checkpoint, then the worker closes its connection; bounded by a timeout. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    this.settle(undefined);
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
    });
    const late = await Promise.race([exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      this.opts.log.warn('wal checkpointer did not stop in time; terminating');
      await worker.terminate();
    }
    this.opts.log.info('wal checkpointer stopped');
  }
}

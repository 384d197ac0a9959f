/**
 * Worker thread of WalCheckpointer (checkpointer.ts). Its one job: PRAGMA
 * wal_checkpoint on its own connection, off the gate's thread, so no
 * checkpoint ever runs in a commit.
 *
 * workerData: CheckpointWorkerData → messages: CheckpointWorkerMessage;
 * it answers 'now' (one checkpoint at once) and 'stop' (a last one, then close).
 */
import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThisThread } from '../worker-priority.js';
import type { CheckpointResult, CheckpointWorkerData, CheckpointWorkerMessage } from './checkpointer.js';
import Database from './sqlite-driver.js';
import { readWalIndex, usedBytes, walMark } from './wal-index.js';

lowerThisThread();

const data = workerData as CheckpointWorkerData;
const port = parentPort!;
const post = (m: CheckpointWorkerMessage) => port.postMessage(m);

let opened: InstanceType<typeof Database>;
try {
  opened = new Database(data.path, { fileMustExist: true });
  // Never wait: busy now means "try next tick".
  opened.pragma('busy_timeout = 0');
  // As the gate's connection: this one commits too (the wrap below).
  opened.pragma(`synchronous = ${data.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  // The wrap below cuts an oversized WAL file back, here rather than in a tap's commit.
  opened.pragma(`journal_size_limit = ${data.walLimit}`);
} catch (err) {
  post({ type: 'error', message: String((err as Error)?.message ?? err) });
  process.exit(1);
}
const db = opened;

function walFileBytes(): number {
  try {
    return statSync(`${data.path}-wal`).size;
  } catch {
    return 0;
  }
}

/** Bytes of the WAL in use (wal-index.ts); the file's size when there is no -shm file. */
function walUsedBytes(): number {
  const w = readWalIndex(data.path);
  return w ? usedBytes(w) : walFileBytes();
}

/** The WAL as our own wrap left it: nothing new to checkpoint until it changes. */
let markAfterWrap: string | undefined;

/**
 * The first commit after a complete checkpoint wraps the WAL to its start,
 * and SQLite fsyncs the new WAL header inside that commit (wal.c, "Sync
 * the header": an out-of-order write after a restart could corrupt the
 * database). Left to the gate, that fsync lands in the next tap's commit;
 * measured at one tap every 400 ms: every tap paid it (commit p50 1.0 ms
 * against 0.1 ms). So right after a checkpoint that copied everything this
 * connection makes the wrap itself with a write that changes nothing (the
 * header's user_version, rewritten with its own value) while the gate is
 * quiet. busy_timeout 0: if the gate is writing, it wraps the WAL itself.
 */
const wrapTx = db.transaction(() => {
  const v = db.pragma('user_version', { simple: true }) as number;
  db.pragma(`user_version = ${v}`);
});

interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}

function checkpoint(mode: 'PASSIVE'): CheckpointResult {
  const t0 = performance.now();
  const [r] = db.pragma(`wal_checkpoint(${mode})`) as CheckpointRow[];
  let wrapped = false;
  // Only while the gate is quiet: the wrap holds the write lock through the
  // fsync, and a tap arriving then would wait for it (with SQLite's busy
  // back-off on top). Under a steady stream of writes the gate wraps itself.
  if (r!.busy === 0 && r!.log > 0 && r!.log === r!.checkpointed && quietForMs() >= data.quietMs) {
    try {
      wrapTx.immediate();
      wrapped = true;
      const w = readWalIndex(data.path);
      markAfterWrap = w && walMark(w);
    } catch {
      // the gate holds the write lock: its next commit wraps the WAL instead
    }
  }
  return { mode, busy: r!.busy, log: r!.log, checkpointed: r!.checkpointed, wrapped, walBytes: walFileBytes(), ms: performance.now() - t0 };
}

// The gate's thread stores the time of its last write here (ms since `epoch`).
const activity = new Int32Array(data.activity);
function quietForMs(): number {
  return Date.now() - data.epoch - Atomics.load(activity, 0);
}
let lastCheckpoint = 0;

/**
 * A checkpoint copies pages and fsyncs the WAL and the database; on ext4 the
 * fsync holds up the hot path's own WAL writes (measured: p99 0.48 → 0.58 ms,
 * max 2.1 → 8.2 ms at 100k credentials). So it waits for a quiet moment —
 * no write for quietMs — unless the WAL has grown past forceBytes.
 */
function due(): boolean {
  const now = Date.now();
  if (now - lastCheckpoint < data.intervalMs) return false;
  // Only our wrap's own frame since the last checkpoint: nothing to do (else
  // an idle gate would checkpoint and wrap that one frame forever).
  if (markAfterWrap !== undefined) {
    const w = readWalIndex(data.path);
    if (w && walMark(w) === markAfterWrap) return false;
  }
  return quietForMs() >= data.quietMs || walUsedBytes() > data.forceBytes;
}

function tick(force: boolean): void {
  if (!force && !due()) return;
  try {
    // PASSIVE only: it copies what it can and never takes the writer lock.
    // (TRUNCATE does, and was measured stalling hot-path commits by up to
    // 255 ms during a snapshot apply.) Once all is copied, the writer's next
    // commit wraps the WAL and writes over it from the start (db.ts,
    // WAL_SIZE_LIMIT_BYTES, on when the file is cut).
    lastCheckpoint = Date.now();
    post({ type: 'checkpoint', ...checkpoint('PASSIVE') });
  } catch (err) {
    post({ type: 'error', message: String((err as Error)?.message ?? err) });
  }
}

const timer = setInterval(() => tick(false), Math.min(data.intervalMs, data.quietMs));
port.on('message', (m: 'now' | 'stop') => {
  if (m === 'now') tick(true);
  if (m === 'stop') {
    clearInterval(timer);
    try {
      tick(true);
    } finally {
      db.close();
      port.close();
    }
  }
});
post({ type: 'ready' });

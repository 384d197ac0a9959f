/**
 * Source of the checkpoint worker thread, run with `new Worker(src, { eval: true })`.
 * It is plain CommonJS text rather than a module file so the same code runs
 * from dist/ and from the TypeScript sources under vitest (a worker thread
 * cannot load a .ts file). Its one job: PRAGMA wal_checkpoint on its own
 * connection, off the main thread, so no checkpoint ever runs in a commit.
 *
 * workerData: { path, sqlite (resolved better-sqlite3 entry), intervalMs, quietMs, forceBytes, activity (SharedArrayBuffer), epoch, nice, synchronous, walLimit }
 * → messages: { type: 'ready' } | { type: 'checkpoint', ... } | { type: 'error', message }
 */
export const CHECKPOINT_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
// Below the gate's thread (src/worker-priority.ts; nice is per thread on Linux).
try { require('node:os').setPriority(workerData.nice); } catch {}
const { closeSync, fstatSync, openSync, readSync, statSync } = require('node:fs');
const { endianness } = require('node:os');
const Database = require(workerData.sqlite);

let db;
try {
  db = new Database(workerData.path, { fileMustExist: true });
  // Never wait: busy now means "try next tick".
  db.pragma('busy_timeout = 0');
  // As the gate's connection: this one commits too (the wrap below).
  db.pragma('synchronous = ' + (workerData.synchronous === 'full' ? 'FULL' : 'NORMAL'));
  // The wrap below cuts an oversized WAL file back, here rather than in a tap's commit.
  db.pragma('journal_size_limit = ' + workerData.walLimit);
} catch (err) {
  parentPort.postMessage({ type: 'error', message: String(err && err.message || err) });
  process.exit(1);
}

function walBytes() {
  try { return statSync(workerData.path + '-wal').size; } catch { return 0; }
}

/**
 * Bytes of the WAL in use, from the wal-index header in the -shm file
 * (sqlite.org/walformat.html: szPage u16 at byte 14, mxFrame u32 at byte 16,
 * native byte order). Not the file size: the file keeps its size when the
 * writer wraps it (db.ts, WAL_SIZE_LIMIT_BYTES), mxFrame starts again at 0.
 */
const shmHeader = Buffer.alloc(40);
/**
 * The -shm descriptor, opened once and closed only when the file is gone or
 * replaced: closing a descriptor of it would drop every POSIX lock this
 * process holds on the file, SQLite's included (checkpointer.ts, shmFd).
 * Nor at stop: the gate's connection is still open then. One descriptor per
 * worker's life is left to the process's exit.
 */
let shm = null;
function shmFd() {
  const path = workerData.path + '-shm';
  let st = null;
  try { st = statSync(path); } catch {}
  if (shm && st && shm.dev === st.dev && shm.ino === st.ino) return shm.fd;
  if (shm) { const old = shm.fd; shm = null; closeSync(old); }
  if (!st) return null;
  try {
    const fd = openSync(path, 'r');
    const f = fstatSync(fd);
    shm = { fd, dev: f.dev, ino: f.ino };
    return fd;
  } catch {
    return null;
  }
}
/** { used, mark }: bytes of the WAL in use, and mxFrame + salt-1 (which changes at every wrap); null without a -shm file. */
function walState() {
  const fd = shmFd();
  if (fd === null) return null;
  try {
    if (readSync(fd, shmHeader, 0, 40, 0) < 40) return null;
  } catch {
    return null;
  }
  const le = endianness() === 'LE';
  const sz = le ? shmHeader.readUInt16LE(14) : shmHeader.readUInt16BE(14);
  const mxFrame = le ? shmHeader.readUInt32LE(16) : shmHeader.readUInt32BE(16);
  const salt1 = le ? shmHeader.readUInt32LE(32) : shmHeader.readUInt32BE(32);
  return { used: 32 + mxFrame * ((sz === 1 ? 65536 : sz) + 24), mark: mxFrame + ':' + salt1 };
}
function walUsedBytes() {
  const st = walState();
  return st ? st.used : walBytes();
}

/** The WAL as our own wrap left it: nothing new to checkpoint until it changes. */
let markAfterWrap = null;

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
  const v = db.pragma('user_version', { simple: true });
  db.pragma('user_version = ' + v);
});

function checkpoint(mode) {
  const t0 = performance.now();
  const [r] = db.pragma('wal_checkpoint(' + mode + ')');
  let wrapped = false;
  // Only while the gate is quiet: the wrap holds the write lock through the
  // fsync, and a tap arriving then would wait for it (with SQLite's busy
  // back-off on top). Under a steady stream of writes the gate wraps itself.
  if (r.busy === 0 && r.log > 0 && r.log === r.checkpointed && quietForMs() >= workerData.quietMs) {
    try {
      wrapTx.immediate();
      wrapped = true;
      const st = walState();
      markAfterWrap = st && st.mark;
    } catch {
      // the gate holds the write lock: its next commit wraps the WAL instead
    }
  }
  return { type: 'checkpoint', mode, busy: r.busy, log: r.log, checkpointed: r.checkpointed, wrapped,
           walBytes: walBytes(), ms: performance.now() - t0 };
}

// The main thread stores the time of its last write here (ms since \`epoch\`).
const activity = new Int32Array(workerData.activity);
function quietForMs() {
  return Date.now() - workerData.epoch - Atomics.load(activity, 0);
}
let lastCheckpoint = 0;

/**
 * A checkpoint copies pages and fsyncs the WAL and the database; on ext4 the
 * fsync holds up the hot path's own WAL writes (measured: p99 0.48 → 0.58 ms,
 * max 2.1 → 8.2 ms at 100k credentials). So it waits for a quiet moment —
 * no write for quietMs — unless the WAL has grown past forceBytes.
 */
function due() {
  const now = Date.now();
  if (now - lastCheckpoint < workerData.intervalMs) return false;
  // Only our wrap's own frame since the last checkpoint: nothing to do (else
  // an idle gate would checkpoint and wrap that one frame forever).
  if (markAfterWrap !== null) {
    const st = walState();
    if (st && st.mark === markAfterWrap) return false;
  }
  return quietForMs() >= workerData.quietMs || walUsedBytes() > workerData.forceBytes;
}

function tick(force) {
  if (!force && !due()) return;
  try {
    // PASSIVE only: it copies what it can and never takes the writer lock.
    // (TRUNCATE does, and was measured stalling hot-path commits by up to
    // 255 ms during a snapshot apply.) Once all is copied, the writer's next
    // commit wraps the WAL and writes over it from the start (db.ts,
    // WAL_SIZE_LIMIT_BYTES, on when the file is cut).
    lastCheckpoint = Date.now();
    parentPort.postMessage(checkpoint('PASSIVE'));
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: String(err && err.message || err) });
  }
}

const timer = setInterval(() => tick(false), Math.min(workerData.intervalMs, workerData.quietMs));
parentPort.on('message', (m) => {
  if (m === 'now') tick(true);
  if (m === 'stop') {
    clearInterval(timer);
    try { tick(true); } finally { db.close(); parentPort.close(); }
  }
});
parentPort.postMessage({ type: 'ready' });
`;

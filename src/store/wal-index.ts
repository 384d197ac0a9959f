/**
 * The wal-index header in a WAL database's -shm file, read without SQLite:
 * how much of the WAL is in use and whether a checkpoint has copied it all.
 * Used on the gate's thread (checkpointer.ts: room()) and in the checkpoint
 * worker (checkpointer-worker.ts); each thread keeps its own descriptors.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { endianness } from 'node:os';

/**
 * Descriptors of -shm files, opened once and kept. Closing any descriptor of
 * a file drops every POSIX lock the process holds on it (fcntl semantics,
 * sqlite.org/howtocorrupt.html §2.2), and SQLite's locks on the -shm are
 * POSIX locks. A header read that opened and closed the file released the
 * gate connection's lock on the DMS byte; the next process to open the
 * database (gatectl, a backup) then took the -shm for unused and truncated it
 * under the gate's mapping: the gate died of SIGBUS. So a descriptor is
 * closed only once its file is gone or replaced, when no connection of this
 * process can hold locks on it any more. Nor at stop: the gate's connection
 * is still open then; one descriptor per file is left to the process's exit.
 */
const shmFds = new Map<string, { fd: number; dev: number; ino: number }>();

function shmFd(dbPath: string): number | undefined {
  const path = `${dbPath}-shm`;
  const held = shmFds.get(path);
  let st: { dev: number; ino: number } | undefined;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  if (held && st && held.dev === st.dev && held.ino === st.ino) return held.fd;
  if (held) {
    shmFds.delete(path);
    closeSync(held.fd); // that file is gone: nothing of ours holds a lock on it
  }
  if (!st) return undefined;
  try {
    const fd = openSync(path, 'r');
    const f = fstatSync(fd);
    shmFds.set(path, { fd, dev: f.dev, ino: f.ino });
    return fd;
  } catch {
    return undefined;
  }
}

export interface WalIndex {
  szPage: number;
  /** Frames in the WAL since its last wrap. */
  mxFrame: number;
  /** Changes at every wrap: with mxFrame, marks one state of the WAL. */
  salt1: number;
  /** Frames already copied into the database. */
  nBackfill: number;
}

/**
 * The header (sqlite.org/walformat.html), native byte order: szPage u16 at
 * byte 14, mxFrame u32 at byte 16 and salt-1 u32 at byte 32 of the first
 * 48-byte header copy; nBackfill u32 at byte 96, after the two copies.
 * undefined without a readable -shm file.
 */
const header = Buffer.alloc(100);
export function readWalIndex(dbPath: string): WalIndex | undefined {
  const fd = shmFd(dbPath);
  if (fd === undefined) return undefined;
  try {
    if (readSync(fd, header, 0, 100, 0) < 100) return undefined;
  } catch {
    return undefined;
  }
  const le = endianness() === 'LE';
  return {
    szPage: le ? header.readUInt16LE(14) : header.readUInt16BE(14),
    mxFrame: le ? header.readUInt32LE(16) : header.readUInt32BE(16),
    salt1: le ? header.readUInt32LE(32) : header.readUInt32BE(32),
    nBackfill: le ? header.readUInt32LE(96) : header.readUInt32BE(96),
  };
}

/**
 * Bytes of the WAL in use: the frames since the last wrap. Not the file
 * size: the file keeps its size when the writer wraps it (db.ts,
 * WAL_SIZE_LIMIT_BYTES), mxFrame starts again at 0.
 */
export const usedBytes = (w: WalIndex): number => 32 + w.mxFrame * ((w.szPage === 1 ? 65536 : w.szPage) + 24);

/** Every frame is copied into the database: the next write transaction wraps the WAL. */
export const allCopied = (w: WalIndex): boolean => w.mxFrame > 0 && w.nBackfill === w.mxFrame;

/** One state of the WAL: equal marks, no frame written in between (mxFrame and salt-1 change at every wrap). */
export const walMark = (w: WalIndex): string => `${w.mxFrame}:${w.salt1}`;

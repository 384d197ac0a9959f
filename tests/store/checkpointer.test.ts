import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { WalCheckpointer, walCopied, walUsedBytes, type CheckpointResult } from '../../src/store/checkpointer.js';
import { openStore, type Store } from '../../src/store/index.js';
import { WAL_SIZE_LIMIT_BYTES } from '../../src/store/db.js';
import { until } from '../helpers/until.js';

const dirs: string[] = [];
const stores: Store[] = [];
const checkpointers: WalCheckpointer[] = [];
afterEach(async () => {
  for (const c of checkpointers.splice(0)) await c.stop();
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'store-ckpt-'));
  dirs.push(dir);
  const path = join(dir, 'gate.db');
  const store = openStore({ path, synchronous: 'normal', gateId: 'g1' });
  stores.push(store);
  return { path, store, wal: `${path}-wal` };
}

const walSize = (wal: string) => (existsSync(wal) ? statSync(wal).size : 0);

function activity(store: Store, n: number): void {
  const tx = store.db.transaction(() => {
    for (let i = 0; i < n; i++) {
      store.journal.append({ type: 'access', reader: 'entry', direction: 'in', credential: 'card:****0001', personId: `p${i}`, granted: true, reason: 'GRANTED', pad: 'x'.repeat(200) }, Date.now());
    }
  }).immediate;
  // Many small commits, like the gate: each adds frames to the WAL.
  for (let i = 0; i < 50; i++) tx();
}

describe('WalCheckpointer', () => {
  it('without it the WAL only grows (no automatic checkpoint in commits)', () => {
    const { store, wal } = setup();
    activity(store, 40);
    const a = walSize(wal);
    activity(store, 40);
    expect(walSize(wal)).toBeGreaterThan(a);
  });

  it('checkpoints in its worker, then wraps the WAL and cuts the file back only past the size limit; the data stays readable', async () => {
    const { path, store, wal } = setup();
    let events = 0;
    while (walSize(wal) < WAL_SIZE_LIMIT_BYTES * 1.25) {
      activity(store, 400);
      events += 50 * 400;
    }
    const grown = walSize(wal);

    const results: CheckpointResult[] = [];
    const c = new WalCheckpointer({ path, intervalMs: 100, log: silentLogger(), onCheckpoint: (r) => results.push(r) });
    checkpointers.push(c);
    await c.start();
    expect(walSize(wal)).toBe(grown);
    await until(() => results.some((r) => r.mode === 'PASSIVE' && r.busy === 0 && r.log > 0 && r.log === r.checkpointed), 20_000);
    // Having copied it all, the worker wrapped the WAL itself and cut the file to the limit (off the gate's thread).
    expect(results.find((r) => r.log === r.checkpointed && r.log > 0)).toMatchObject({ wrapped: true });
    expect(walSize(wal)).toBe(WAL_SIZE_LIMIT_BYTES);
    store.journal.append({ type: 'startup' }, Date.now());
    expect(walSize(wal)).toBe(WAL_SIZE_LIMIT_BYTES);
    expect(store.journal.lastSeq()).toBe(events + 1);

    // More activity while it runs: the WAL is written over in place, never grown nor cut again.
    for (let round = 0; round < 5; round++) {
      activity(store, 40);
      await new Promise((r) => setTimeout(r, 350));
    }
    store.journal.append({ type: 'startup' }, Date.now());
    expect(walSize(wal)).toBe(WAL_SIZE_LIMIT_BYTES);
    expect(store.journal.lastSeq()).toBe(events + 1 + 5 * 50 * 40 + 1);
    await c.stop();
    expect(store.journal.lastSeq()).toBe(events + 1 + 5 * 50 * 40 + 1);

    // forceBytes counts the WAL in use, not the file: the file is 32 MiB, the
    // few frames written since the wrap are not, so a busy gate is not forced.
    const forced: CheckpointResult[] = [];
    const f = new WalCheckpointer({ path, intervalMs: 50, quietMs: 60_000, forceBytes: 1024 * 1024, log: silentLogger(), onCheckpoint: (r) => forced.push(r) });
    checkpointers.push(f);
    await f.start();
    for (let i = 0; i < 20; i++) {
      store.journal.append({ type: 'startup' }, Date.now());
      f.noteWrite();
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(forced).toHaveLength(0);
  });

  it("the gate's own commit that wraps an oversized WAL does not cut the file (the ftruncate stays off the hot path)", () => {
    const { store, wal } = setup();
    while (walSize(wal) < WAL_SIZE_LIMIT_BYTES * 1.25) activity(store, 400);
    const grown = walSize(wal);
    // A complete checkpoint, then the gate's next commit wraps the WAL to its start.
    const r = store.db.pragma('wal_checkpoint(PASSIVE)', { simple: false }) as Array<{ busy: number; log: number; checkpointed: number }>;
    expect(r[0]).toMatchObject({ busy: 0 });
    expect(r[0]!.checkpointed).toBe(r[0]!.log);
    store.journal.append({ type: 'startup' }, Date.now());
    expect(walUsedBytes(wal.slice(0, -4))).toBeLessThan(64 * 1024);
    expect(walSize(wal)).toBe(grown);
  });

  it('walCopied: true only while every frame of the WAL is in the database, until the next commit wraps it', () => {
    const { path, store } = setup();
    expect(walCopied(path)).toBe(false);
    activity(store, 40);
    expect(walCopied(path)).toBe(false);
    store.db.pragma('wal_checkpoint(PASSIVE)');
    expect(walCopied(path)).toBe(true);
    const before = walUsedBytes(path);
    store.journal.append({ type: 'startup' }, Date.now()); // wraps: one frame or so from the start
    expect(walCopied(path)).toBe(false);
    expect(walUsedBytes(path)).toBeLessThan(Math.min(before, 16 * 1024));
    activity(store, 40);
    store.db.pragma('wal_checkpoint(PASSIVE)');
    expect(walCopied(path)).toBe(true);
  });

  it('waits for a quiet moment before it checkpoints, unless the WAL passed forceBytes', async () => {
    const { path, store } = setup();
    const results: CheckpointResult[] = [];
    const c = new WalCheckpointer({ path, intervalMs: 50, quietMs: 300, forceBytes: 1024 * 1024 * 1024, log: silentLogger(), onCheckpoint: (r) => results.push(r) });
    checkpointers.push(c);
    await c.start();
    // Writes every 30 ms for 1.2 s: never quiet for 300 ms, so no checkpoint.
    for (let i = 0; i < 40; i++) {
      activity(store, 1);
      c.noteWrite();
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(results).toHaveLength(0);
    // Then quiet: one comes.
    await until(() => results.length > 0, 5_000);
    expect(results[0]!.log).toBeGreaterThan(0);

    const d = setup();
    const forced: CheckpointResult[] = [];
    const f = new WalCheckpointer({ path: d.path, intervalMs: 50, quietMs: 60_000, forceBytes: 64 * 1024, log: silentLogger(), onCheckpoint: (r) => forced.push(r) });
    checkpointers.push(f);
    await f.start();
    for (let i = 0; i < 40 && forced.length === 0; i++) {
      activity(d.store, 1);
      f.noteWrite();
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(forced.length).toBeGreaterThan(0); // never quiet, but the WAL grew past forceBytes
  });

  it('wraps the WAL itself after a complete checkpoint, so the next commit of the gate does not (nor its header fsync); idle, it stays idle', async () => {
    const { path, store } = setup();
    activity(store, 10);
    const results: CheckpointResult[] = [];
    const c = new WalCheckpointer({ path, intervalMs: 50, quietMs: 100, log: silentLogger(), onCheckpoint: (r) => results.push(r) });
    checkpointers.push(c);
    await c.start();
    await until(() => results.some((r) => r.wrapped), 5_000);
    expect(results[0]).toMatchObject({ wrapped: true }); // the first complete checkpoint, in a quiet moment
    const oneFrame = 32 + (1024 + 24);
    expect(walUsedBytes(path)).toBe(oneFrame); // the wrap's own frame, at the start of the file
    store.journal.append({ type: 'startup' }, Date.now());
    expect(walUsedBytes(path)).toBeGreaterThan(oneFrame); // appended after it: the gate did not wrap
    // Idle: one more checkpoint for that commit (wrapping again), then nothing.
    await until(() => results.filter((r) => r.wrapped).length >= 2, 5_000);
    const n = results.length;
    await new Promise((r) => setTimeout(r, 600));
    expect(results).toHaveLength(n);
  });

  it('room(): a bulk writer waits until a checkpoint has copied the WAL, and its next commit wraps it', async () => {
    const { path, store } = setup();
    const results: CheckpointResult[] = [];
    const c = new WalCheckpointer({ path, intervalMs: 60_000, quietMs: 60_000, forceBytes: 1024 ** 3, roomBytes: 256 * 1024, log: silentLogger(), onCheckpoint: (r) => results.push(r) });
    checkpointers.push(c);
    await c.room(); // not started: nothing to wait for
    await c.start();
    activity(store, 10);
    const before = walUsedBytes(path);
    expect(before).toBeGreaterThan(256 * 1024);
    expect(results).toHaveLength(0); // the worker never checkpoints on its own here (never quiet, never forced)
    await c.room();
    expect(results.at(-1)).toMatchObject({ busy: 0, wrapped: false }); // not quiet (quietMs 60 s): the writer wraps
    expect(results.at(-1)!.log).toBe(results.at(-1)!.checkpointed);
    store.journal.append({ type: 'startup' }, Date.now());
    expect(walUsedBytes(path)).toBeLessThan(16 * 1024); // wrapped: one small transaction in use
    const n = results.length;
    await c.room(); // under roomBytes now: no checkpoint asked
    expect(results).toHaveLength(n);
  });

  it('starts and stops, twice in a row, and stop() is harmless when not started', async () => {
    const { path } = setup();
    const c = new WalCheckpointer({ path, intervalMs: 50, log: silentLogger() });
    await c.stop();
    await c.start();
    await c.stop();
    await c.start();
    await c.stop();
  });

  it('start() fails with a code when the database is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-ckpt-'));
    dirs.push(dir);
    const c = new WalCheckpointer({ path: join(dir, 'missing.db'), log: silentLogger() });
    await expect(c.start()).rejects.toMatchObject({ code: 'CHECKPOINTER_FAILED' });
    expect(existsSync(join(dir, 'missing.db'))).toBe(false);
  });
});

/**
 * This process's POSIX locks on a file, from /proc/locks ("1: POSIX ADVISORY
 * READ <pid> <maj>:<min>:<inode> <start> <end>").
 */
function locksOn(file: string): string[] {
  const ino = statSync(file).ino;
  return readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .filter((l) => {
      const f = l.trim().split(/\s+/);
      return f[1] === 'POSIX' && Number(f[4]) === process.pid && f[5]?.split(':')[2] === String(ino);
    })
    .map((l) => l.trim().split(/\s+/).slice(3).join(' '));
}

describe.runIf(existsSync('/proc/locks'))('reading the WAL index keeps SQLite\'s locks on the -shm', () => {
  // Closing any descriptor of a file drops every POSIX lock the process holds
  // on it. The gate's connection holds a read lock on the -shm's DMS byte
  // (128) while it uses the file; without it, the next process to open the
  // database (gatectl, a backup) truncates the -shm under the gate's mapping:
  // the gate died of SIGBUS in the broker-restart chaos test.
  const dms = (locks: string[]) => locks.filter((l) => / 128 128$/.test(l));

  it('walUsedBytes and walCopied leave the connection\'s DMS lock in place', () => {
    const { path, store } = setup();
    activity(store, 10);
    const shm = `${path}-shm`;
    expect(dms(locksOn(shm))).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      walUsedBytes(path);
      walCopied(path);
    }
    expect(dms(locksOn(shm))).toHaveLength(1);
  });

  it('the checkpointer worker\'s reads leave it in place too', async () => {
    const { path, store } = setup();
    const results: CheckpointResult[] = [];
    const c = new WalCheckpointer({ path, intervalMs: 20, quietMs: 10, log: silentLogger(), onCheckpoint: (r) => results.push(r) });
    checkpointers.push(c);
    await c.start();
    for (let round = 0; round < 3; round++) {
      activity(store, 10);
      const n = results.length;
      await until(() => results.length > n, 5_000);
    }
    expect(dms(locksOn(`${path}-shm`))).toHaveLength(1);
  });
});

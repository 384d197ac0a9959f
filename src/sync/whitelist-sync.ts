/**
 * Whitelist from central: a retained signed manifest names a snapshot
 * version split into retained signed chunks; signed deltas move one version
 * at a time. A manifest newer than the local version makes the gate
 * subscribe to the chunks (retained, so they come at once), collect all of
 * them, check the manifest hash over their exact body text, and apply them
 * in slices (store/snapshot.ts) so decisions never stall.
 *
 * This file follows the manifest and applies the snapshot; beside it:
 * - chunk-intake.ts checks each chunk message in a worker, one at a time;
 * - chunk-fetch.ts keeps a window of chunk subscriptions open (never one
 *   wildcard: mosquitto's max_queued_messages) and releases every one;
 * - delta-chain.ts applies the deltas in version order (a delta whose base
 *   is not the local version waits, briefly, in memory; an old one is a
 *   replay and ignored).
 */
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Logger } from '../log.js';
import type { Clock } from '../types.js';
import type { GateControl } from '../controller/gate-api.js';
import type { WhitelistStore } from '../store/whitelist.js';
import type { SnapshotApplier, SnapshotSource } from '../store/snapshot.js';
import type { SnapshotChunks } from '../store/snapshot-chunks.js';
import type { Settings } from '../store/settings.js';
import type { DeltaMsg, ManifestMsg } from './protocol/schemas.js';
import type { SiteTopics } from './protocol/topics.js';
import type { MqttLink } from './mqtt-link.js';
import type { Rejections } from './inbound.js';
import { ChunkFetch } from './chunk-fetch.js';
import { ChunkIntake } from './chunk-intake.js';
import { DeltaChain } from './delta-chain.js';

export interface WhitelistSyncDeps {
  whitelist: WhitelistStore;
  chunks: SnapshotChunks;
  applier: SnapshotApplier;
  gate: GateControl;
  link: MqttLink;
  topics: SiteTopics;
  log: Logger;
  clock: Clock;
  rejections: Rejections;
  /** Whitelist version changed (status). */
  onChange: () => void;
  keys: ReadonlyMap<string, KeyObject>;
  maxBytes: number;
  /** No new chunk for this long while some are missing: subscribe again for the retained ones. */
  refetchMs?: number;
  /**
   * Awaited before each chunk is stored: WalCheckpointer.room(). A snapshot's
   * chunk bodies are as many bytes as its apply; without the wait the fetch
   * grew the WAL past its size limit and the next wrap cut it back inside a
   * tap's commit (a 103 ms ftruncate, bench/sync at 1M).
   */
  walRoom?: () => Promise<void>;
  /**
   * Where the chunk topics subscribed and not yet released are kept, so a
   * gate that restarts mid-fetch releases them from its persistent session.
   */
  settings?: Settings;
}

class Stopped extends Error {}

export class WhitelistSync {
  private target: ManifestMsg | undefined;
  private applying = false;
  private stopped = false;
  private lastChunkAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> = Promise.resolve();
  private readonly intake: ChunkIntake;
  private readonly fetch: ChunkFetch;
  private readonly deltas: DeltaChain;

  constructor(private readonly deps: WhitelistSyncDeps) {
    this.intake = new ChunkIntake({ ...deps, onChunk: (c, body) => this.onChunk(c, body) });
    this.fetch = new ChunkFetch({ ...deps, target: () => this.target });
    this.deltas = new DeltaChain(deps);
  }

  start(): void {
    const every = this.deps.refetchMs ?? 15_000;
    this.timer = setInterval(() => this.refetchIfStuck(every), Math.max(250, Math.floor(every / 3)));
    this.timer.unref();
  }

  /** Resolves once a running apply has reached a safe point. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.intake.stop();
    await this.current;
  }

  /** True while a snapshot is being applied. */
  busy(): boolean {
    return this.applying;
  }

  onConnect(): void {
    // Whether the session kept them or not, the fetch's subscriptions are
    // released (those of an earlier process too) and made again for what is
    // still missing: none is left behind in the 14-day session.
    this.fetch.restart();
  }

  /** Chunk indexes this gate holds subscriptions for, as saved in settings. */
  chunkSubscriptions(): number[] {
    return this.fetch.subscriptions();
  }

  onManifest(m: ManifestMsg): void {
    const local = this.deps.whitelist.version();
    if (m.version <= local) {
      if (this.target && this.target.version <= local) this.finish();
      return;
    }
    if (this.target?.version === m.version) return;
    // Older versions' chunks go, but not under a running apply (it reads them; it prunes when done).
    if (this.target && this.target.sha256 !== m.sha256 && !this.applying) void this.deps.chunks.prune(m.version - 1);
    this.target = m;
    this.lastChunkAt = this.deps.clock();
    this.deps.log.info({ version: m.version, local, chunks: m.chunks }, 'whitelist snapshot announced');
    // The fetch it replaces (if any) gives back every subscription it made.
    this.fetch.restart();
    this.kick();
  }

  /** A chunk message: checked in a worker thread, one at a time (chunk-intake.ts), then onChunk. */
  enqueueChunk(topic: string, payload: Buffer): void {
    this.intake.enqueue(topic, payload);
  }

  /**
   * Resolves when every queued chunk is checked. The link holds the PUBACK
   * (and so reading the socket) until then: the broker sends the next chunk
   * only when this one is done, instead of a burst of megabytes at once.
   */
  intakeIdle(): Promise<void> {
    return this.intake.idle();
  }

  onChunk(c: { version: number; index: number }, body: Uint8Array): void {
    if (c.version <= this.deps.whitelist.version()) return;
    if (this.target && c.version < this.target.version) return;
    this.deps.chunks.put(c.version, c.index, body);
    this.lastChunkAt = this.deps.clock();
    this.fetch.onStored(c.index);
    this.kick();
  }

  onDelta(d: DeltaMsg): void {
    if (this.deltas.add(d)) this.drainDeltas();
  }

  /** Deltas wait while a snapshot is being applied (tryApply drains them after). */
  private drainDeltas(): void {
    if (!this.applying) this.deltas.drain();
  }

  private refetchIfStuck(afterMs: number): void {
    if (!this.target || this.applying || !this.deps.link.connected) return;
    if (this.deps.clock() - this.lastChunkAt < afterMs) return;
    const have = this.deps.chunks.have(this.target.version, this.target.chunks);
    this.deps.log.warn({ version: this.target.version, have, of: this.target.chunks }, 'whitelist chunks missing: fetching again');
    this.lastChunkAt = this.deps.clock();
    // Subscribing again makes the broker send the retained chunk again.
    this.fetch.restart();
  }

  /**
   * End the fetch of `m` unless a newer manifest replaced it while `m` was
   * being applied: that one's fetch (and subscriptions) must go on.
   */
  private finishIf(m: ManifestMsg): void {
    if (this.target === m) this.finish();
  }

  private finish(): void {
    this.target = undefined;
    this.fetch.release();
  }

  private kick(): void {
    if (this.applying || this.stopped) return;
    this.current = this.tryApply();
  }

  private async tryApply(): Promise<void> {
    const { whitelist, chunks, applier, gate, log, clock, rejections } = this.deps;
    const m = this.target;
    if (this.applying || !m || this.stopped) return;
    const local = whitelist.version();
    if (m.version <= local) return this.finish();
    if (chunks.have(m.version, m.chunks) < m.chunks) return;
    this.applying = true;
    const started = clock();
    try {
      if ((await this.hashOf(m)) !== m.sha256) {
        rejections.report({ topic: 'whitelist/manifest', code: 'BAD_HASH', message: `chunks of version ${m.version} do not match the manifest sha256` });
        this.finishIf(m);
        await chunks.drop(m.version);
        return;
      }
      // Records go from the stored text into the tables in SQL (never JSON.parse here: see chunk-check.ts).
      const source: SnapshotSource = { chunks: m.chunks };
      const counts = await applier.apply(m.version, source, {
        nowMs: clock(),
        checkpoint: () => {
          if (this.stopped) throw new Stopped('sync stopping');
        },
      });
      gate.record({ type: 'whitelist_applied', version: m.version, from: local, kind: 'snapshot', counts });
      log.info({ version: m.version, from: local, ...counts, ms: clock() - started }, 'whitelist snapshot applied');
      this.finishIf(m);
      this.deps.onChange();
      await chunks.prune(m.version);
    } catch (err) {
      if (err instanceof Stopped) return;
      const code = (err as { code?: string }).code;
      if (code === 'BAD_WHITELIST' || code === 'BAD_TIME') {
        rejections.report({ topic: 'whitelist/chunk', code: 'BAD_WHITELIST', message: (err as Error).message });
        this.finishIf(m);
        await chunks.drop(m.version);
      } else {
        log.error({ err, version: m.version }, 'whitelist snapshot apply failed');
      }
    } finally {
      this.applying = false;
    }
    this.drainDeltas();
    if (this.target && this.target !== m) this.kick();
  }

  /** Manifest sha256 over the stored chunk bodies in index order, yielding between chunks. */
  private async hashOf(m: ManifestMsg): Promise<string> {
    const h = createHash('sha256');
    for (let i = 0; i < m.chunks; i++) {
      const body = this.deps.chunks.body(m.version, i);
      if (body) h.update(body);
      if ((i & 7) === 7) await new Promise<void>((r) => setImmediate(r));
    }
    return h.digest('hex');
  }
}


/**
 * Whitelist from central: a retained signed manifest names a snapshot
 * version split into retained signed chunks; signed deltas move one version
 * at a time. A manifest newer than the local version makes the gate
 * subscribe to the chunks (retained, so they come at once), collect all of
 * them, check the manifest hash over their exact body text, and apply them
 * in slices (store/snapshot.ts) so decisions never stall.
 *
 * Chunks are fetched by subscribing to a window of chunk topics at a time
 * (each subscription delivers that retained chunk), not by one wildcard:
 * mosquitto queues at most max_queued_messages (1000) per client, so a
 * wildcard over a 2000-chunk snapshot would silently drop half of it.
 *
 * A delta whose base
 * is not the local version waits (briefly, in memory) for the versions in
 * between or for the snapshot; an old one is a replay and ignored.
 */
import { createHash } from 'node:crypto';
import { ChunkChecker } from './chunk-check.js';
import type { Logger } from '../log.js';
import type { Clock } from '../types.js';
import type { GateControl } from '../controller/gate-api.js';
import type { WhitelistStore } from '../store/whitelist.js';
import type { SnapshotApplier, SnapshotSource } from '../store/snapshot.js';
import type { SnapshotChunks } from '../store/snapshot-chunks.js';
import type { KeyObject } from 'node:crypto';
import type { DeltaMsg, ManifestMsg } from './protocol/schemas.js';
import type { SiteTopics } from './protocol/topics.js';
import type { MqttLink } from './mqtt-link.js';
import type { Rejections } from './inbound.js';
import type { Settings } from '../store/settings.js';

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

const MAX_PENDING_DELTAS = 1_000;
/** Chunk subscriptions open at once: well under mosquitto's max_queued_messages (1000). */
const FETCH_WINDOW = 64;
/** settings key: chunk indexes subscribed and not yet unsubscribed (sorted array). */
const SUBS_KEY = 'sync.chunkSubscriptions';
class Stopped extends Error {}

export class WhitelistSync {
  private target: ManifestMsg | undefined;
  private applying = false;
  private stopped = false;
  /** Chunk indexes subscribed to and not yet received. */
  private readonly requested = new Set<number>();
  /**
   * Every chunk index a SUBSCRIBE was sent for and no UNSUBSCRIBE since,
   * whatever became of it (a SUBACK lost with the connection may still have
   * left the subscription in the broker's session). release() empties it.
   */
  private readonly subscribed = new Set<number>();
  private readonly received: number[] = [];
  private fetching = false;
  private lastChunkAt = 0;
  private gapWarnedFor = -1;
  private readonly deltas = new Map<number, DeltaMsg>();
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> = Promise.resolve();
  private readonly intake: Array<{ topic: string; payload: Buffer }> = [];
  private intakeRunning = false;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly checker: ChunkChecker;

  constructor(private readonly deps: WhitelistSyncDeps) {
    this.checker = new ChunkChecker(deps.keys, deps.maxBytes, deps.log);
    const left = deps.settings?.get<unknown>(SUBS_KEY);
    if (Array.isArray(left)) for (const i of left) if (Number.isInteger(i) && i >= 0) this.subscribed.add(i as number);
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
    await this.checker.stop();
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
    this.release();
    if (this.target) this.fetchChunks();
  }

  /** Chunk indexes this gate holds subscriptions for, as saved in settings. */
  chunkSubscriptions(): number[] {
    return [...this.subscribed].sort((a, b) => a - b);
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
    this.release();
    this.fetchChunks();
    this.kick();
  }

  /**
   * A chunk message: checked (signature, schema of every record) in a worker
   * thread (chunk-check.ts), one at a time, so a burst of 100 KB chunks never
   * holds the event loop (decisions).
   */
  enqueueChunk(topic: string, payload: Buffer): void {
    this.intake.push({ topic, payload });
    if (!this.intakeRunning) {
      this.intakeRunning = true;
      setImmediate(() => void this.drainIntake());
    }
  }

  /**
   * Resolves when every queued chunk is checked. The link holds the PUBACK
   * (and so reading the socket) until then: the broker sends the next chunk
   * only when this one is done, instead of a burst of megabytes at once.
   */
  intakeIdle(): Promise<void> {
    if (!this.intake.length && !this.intakeRunning) return Promise.resolve();
    return new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private async drainIntake(): Promise<void> {
    try {
      while (this.intake.length && !this.stopped) {
        const { topic, payload } = this.intake.shift()!;
        const r = await this.checker.check(payload, this.deps.whitelist.version());
        if (this.stopped) break;
        if (!r.ok) {
          const { code, message } = r;
          // CHECK_FAILED is our failure, not central's: the chunk stays missing and is fetched again.
          if (code === 'CHECK_FAILED') this.deps.log.warn({ err: message }, 'whitelist chunk not checked');
          else this.deps.rejections.report({ topic: 'whitelist/chunk', code, message });
        } else if (topic !== this.deps.topics.chunk(r.index)) {
          this.deps.rejections.report({ topic: 'whitelist/chunk', code: 'BAD_SCHEMA', message: `chunk index ${r.index} on another chunk's topic` });
        } else {
          if (this.deps.walRoom) await this.deps.walRoom();
          if (this.stopped) break;
          this.onChunk(r, r.body);
        }
      }
    } finally {
      this.intakeRunning = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  onChunk(c: { version: number; index: number }, body: Uint8Array): void {
    if (c.version <= this.deps.whitelist.version()) return;
    if (this.target && c.version < this.target.version) return;
    this.deps.chunks.put(c.version, c.index, body);
    this.lastChunkAt = this.deps.clock();
    if (this.requested.delete(c.index)) this.received.push(c.index);
    this.fetchChunks();
    this.kick();
  }

  onDelta(d: DeltaMsg): void {
    if (d.version <= this.deps.whitelist.version()) {
      this.deps.log.debug({ version: d.version }, 'old whitelist delta ignored');
      return;
    }
    this.deltas.set(d.baseVersion, d);
    if (this.deltas.size > MAX_PENDING_DELTAS) this.deltas.delete(Math.min(...this.deltas.keys()));
    this.drainDeltas();
  }

  private drainDeltas(): void {
    if (this.applying) return;
    const { whitelist, gate, log, rejections } = this.deps;
    for (;;) {
      const local = whitelist.version();
      for (const [base, d] of this.deltas) if (d.version <= local) this.deltas.delete(base);
      const d = this.deltas.get(local);
      if (!d) break;
      this.deltas.delete(local);
      try {
        const outcome = whitelist.applyDelta(d);
        if (outcome !== 'applied') continue;
      } catch (err) {
        rejections.report({ topic: 'whitelist/delta', code: 'BAD_WHITELIST', message: (err as Error).message });
        continue;
      }
      const n = (a?: unknown[]) => a?.length ?? 0;
      gate.record({
        type: 'whitelist_applied',
        version: d.version,
        from: local,
        kind: 'delta',
        counts: {
          upsert: { people: n(d.upsert.people), credentials: n(d.upsert.credentials), schedules: n(d.upsert.schedules) },
          delete: { people: n(d.delete.people), credentials: n(d.delete.credentials), schedules: n(d.delete.schedules) },
        },
      });
      log.info({ version: d.version, from: local }, 'whitelist delta applied');
      this.deps.onChange();
    }
    if (this.deltas.size) {
      const local = whitelist.version();
      if (this.gapWarnedFor !== local) {
        this.gapWarnedFor = local;
        log.warn({ local, waiting: [...this.deltas.keys()].sort((a, b) => a - b).slice(0, 5) }, 'whitelist delta gap: waiting for the missing delta or a snapshot');
      }
    }
  }

  /** Keep FETCH_WINDOW chunk subscriptions open; drop the ones already answered. */
  private fetchChunks(): void {
    const { link, topics, log, chunks } = this.deps;
    const m = this.target;
    if (!m || !link.connected || this.fetching) return;
    const done = this.received.splice(0);
    let wanted: number[] = [];
    if (this.requested.size < FETCH_WINDOW / 2) {
      wanted = chunks
        .missing(m.version, m.chunks)
        .filter((i) => !this.requested.has(i))
        .slice(0, FETCH_WINDOW - this.requested.size);
    }
    const drop = done.filter((i) => this.subscribed.has(i));
    if (!drop.length && !wanted.length) return;
    for (const i of wanted) this.requested.add(i);
    this.fetching = true;
    for (const i of wanted) this.subscribed.add(i);
    for (const i of drop) this.subscribed.delete(i);
    this.saveSubscriptions();
    const unsub = drop.length
      ? link.unsubscribe(drop.map((i) => topics.chunk(i))).catch((err: Error) => this.unsubscribeFailed(drop, err))
      : Promise.resolve();
    const sub = wanted.length ? link.subscribe(wanted.map((i) => topics.chunk(i))) : Promise.resolve();
    Promise.all([unsub, sub])
      .catch((err: Error) => {
        for (const i of wanted) this.requested.delete(i);
        log.warn({ err }, 'cannot subscribe to whitelist chunks');
      })
      .finally(() => {
        this.fetching = false;
        if (this.received.length || this.requested.size < FETCH_WINDOW / 2) this.fetchChunks();
      });
  }

  private refetchIfStuck(afterMs: number): void {
    if (!this.target || this.applying || !this.deps.link.connected) return;
    if (this.deps.clock() - this.lastChunkAt < afterMs) return;
    const have = this.deps.chunks.have(this.target.version, this.target.chunks);
    this.deps.log.warn({ version: this.target.version, have, of: this.target.chunks }, 'whitelist chunks missing: fetching again');
    this.lastChunkAt = this.deps.clock();
    // Subscribing again makes the broker send the retained chunk again.
    this.release();
    this.fetchChunks();
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
    this.release();
  }

  /** Unsubscribe every chunk topic this gate subscribed to; forget what was requested. */
  private release(): void {
    this.requested.clear();
    this.received.length = 0;
    if (!this.subscribed.size || !this.deps.link.connected) return;
    const all = [...this.subscribed];
    this.subscribed.clear();
    this.saveSubscriptions();
    const { link, topics, log } = this.deps;
    for (let k = 0; k < all.length; k += FETCH_WINDOW) {
      const part = all.slice(k, k + FETCH_WINDOW);
      link.unsubscribe(part.map((i) => topics.chunk(i))).catch((err: Error) => this.unsubscribeFailed(part, err));
    }
  }

  /** The broker may still hold them: remembered, released on the next connect. */
  private unsubscribeFailed(indexes: number[], err: Error): void {
    for (const i of indexes) this.subscribed.add(i);
    this.saveSubscriptions();
    this.deps.log.warn({ err, chunks: indexes.length }, 'whitelist chunk subscriptions not released yet (next connect)');
  }

  private saveSubscriptions(): void {
    try {
      const list = this.chunkSubscriptions();
      this.deps.settings?.set(SUBS_KEY, list.length ? list : undefined);
    } catch (err) {
      this.deps.log.warn({ err }, 'chunk subscriptions not saved');
    }
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


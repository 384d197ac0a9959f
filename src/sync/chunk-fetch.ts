/**
 * The whitelist snapshot's chunk subscriptions (whitelist-sync.ts fetches,
 * this keeps the books). Chunks are fetched by subscribing to a window of
 * chunk topics at a time (each subscription delivers that retained chunk),
 * not by one wildcard: mosquitto queues at most max_queued_messages (1000)
 * per client, so a wildcard over a 2000-chunk snapshot would silently drop
 * half of it. Every subscription made is released again, and the ones not
 * yet released are kept in settings, so a gate that restarts mid-fetch
 * releases them from its 14-day persistent session.
 */
import type { Logger } from '../log.js';
import type { SnapshotChunks } from '../store/snapshot-chunks.js';
import type { Settings } from '../store/settings.js';
import type { ManifestMsg } from './protocol/schemas.js';
import type { SiteTopics } from './protocol/topics.js';
import type { MqttLink } from './mqtt-link.js';

export interface ChunkFetchDeps {
  chunks: SnapshotChunks;
  link: MqttLink;
  topics: SiteTopics;
  log: Logger;
  settings?: Settings;
  /** The snapshot being fetched, if any. */
  target(): ManifestMsg | undefined;
}

/** Chunk subscriptions open at once: well under mosquitto's max_queued_messages (1000). */
const FETCH_WINDOW = 64;
/** settings key: chunk indexes subscribed and not yet unsubscribed (sorted array). */
const SUBS_KEY = 'sync.chunkSubscriptions';

export class ChunkFetch {
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

  constructor(private readonly deps: ChunkFetchDeps) {
    const left = deps.settings?.get<unknown>(SUBS_KEY);
    if (Array.isArray(left)) for (const i of left) if (Number.isInteger(i) && i >= 0) this.subscribed.add(i as number);
  }

  /** Chunk indexes this gate holds subscriptions for, as saved in settings. */
  subscriptions(): number[] {
    return [...this.subscribed].sort((a, b) => a - b);
  }

  /** A chunk was stored: its subscription can go, and the window moves on. */
  onStored(index: number): void {
    if (this.requested.delete(index)) this.received.push(index);
    this.fill();
  }

  /** Keep FETCH_WINDOW chunk subscriptions open; drop the ones already answered. */
  fill(): void {
    const { link, topics, log, chunks } = this.deps;
    const m = this.deps.target();
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
    this.save();
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
        if (this.received.length || this.requested.size < FETCH_WINDOW / 2) this.fill();
      });
  }

  /** Release every subscription and subscribe again for what is still missing (the broker resends retained chunks). */
  restart(): void {
    this.release();
    this.fill();
  }

  /** Unsubscribe every chunk topic this gate subscribed to; forget what was requested. */
  release(): void {
    this.requested.clear();
    this.received.length = 0;
    if (!this.subscribed.size || !this.deps.link.connected) return;
    const all = [...this.subscribed];
    this.subscribed.clear();
    this.save();
    const { link, topics } = this.deps;
    for (let k = 0; k < all.length; k += FETCH_WINDOW) {
      const part = all.slice(k, k + FETCH_WINDOW);
      link.unsubscribe(part.map((i) => topics.chunk(i))).catch((err: Error) => this.unsubscribeFailed(part, err));
    }
  }

  /** The broker may still hold them: remembered, released on the next connect. */
  private unsubscribeFailed(indexes: number[], err: Error): void {
    for (const i of indexes) this.subscribed.add(i);
    this.save();
    this.deps.log.warn({ err, chunks: indexes.length }, 'whitelist chunk subscriptions not released yet (next connect)');
  }

  private save(): void {
    try {
      const list = this.subscriptions();
      this.deps.settings?.set(SUBS_KEY, list.length ? list : undefined);
    } catch (err) {
      this.deps.log.warn({ err }, 'chunk subscriptions not saved');
    }
  }
}

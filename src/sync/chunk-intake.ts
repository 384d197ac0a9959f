/**
 * Whitelist chunk messages as they arrive: checked (signature, schema of
 * every record) in a worker thread (chunk-check.ts), one at a time, so a
 * burst of 100 KB chunks never holds the event loop (decisions). A chunk that
 * passes, on its own chunk's topic, goes on to whitelist-sync.ts; any other
 * is reported as rejected (or, when the check itself failed, left missing to
 * be fetched again).
 */
import type { KeyObject } from 'node:crypto';
import type { Logger } from '../log.js';
import type { WhitelistStore } from '../store/whitelist.js';
import { ChunkChecker } from './chunk-check.js';
import type { Rejections } from './inbound.js';
import type { SiteTopics } from './protocol/topics.js';

export interface ChunkIntakeDeps {
  whitelist: WhitelistStore;
  topics: SiteTopics;
  log: Logger;
  rejections: Rejections;
  keys: ReadonlyMap<string, KeyObject>;
  maxBytes: number;
  /** Awaited before each checked chunk goes on (WhitelistSyncDeps.walRoom). */
  walRoom?: () => Promise<void>;
  /** A checked chunk, on its own topic. */
  onChunk(c: { version: number; index: number }, body: Uint8Array): void;
}

export class ChunkIntake {
  private readonly checker: ChunkChecker;
  private readonly queue: Array<{ topic: string; payload: Buffer }> = [];
  private running = false;
  private stopped = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: ChunkIntakeDeps) {
    this.checker = new ChunkChecker(deps.keys, deps.maxBytes, deps.log);
  }

  /** Nothing more goes on; resolves when the checker's worker is gone. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.checker.stop();
  }

  enqueue(topic: string, payload: Buffer): void {
    this.queue.push({ topic, payload });
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.drain());
    }
  }

  /** Resolves when every queued chunk is checked. */
  idle(): Promise<void> {
    if (!this.queue.length && !this.running) return Promise.resolve();
    return new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length && !this.stopped) {
        const { topic, payload } = this.queue.shift()!;
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
          this.deps.onChunk(r, r.body);
        }
      }
    } finally {
      this.running = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}

/**
 * The at-least-once event feed: the journal tail after central's ack cursor,
 * published as JSON arrays of ≤ batchSize events in seq order, QoS 1.
 *
 * At most `window` events are out unacked: mosquitto queues only
 * max_queued_messages (1000 by default) for a slow subscriber and drops the
 * rest, so bursting a backlog would lose messages at the broker. An event
 * leaves the outbox only when a signed events/ack covers it; when no ack
 * makes progress for ackTimeoutMs, and on every reconnect, everything
 * unacked is sent again (central dedupes on (gate, seq)).
 */
import type { Logger } from '../log.js';
import type { Clock } from '../drivers/types.js';
import type { JournalEvent } from '../store/types.js';
import type { Journal } from '../store/journal.js';
import type { Outbox } from '../store/outbox.js';
import type { MqttLink } from './mqtt-link.js';

export interface FeedOptions {
  window: number;
  batchSize: number;
  ackTimeoutMs: number;
}

export interface FeedDeps {
  outbox: Outbox;
  journal: Journal;
  link: MqttLink;
  topics: { events: string; alerts: string };
  log: Logger;
  clock: Clock;
  options: FeedOptions;
  /** Outbox counts changed (status). */
  onChange: () => void;
  /** A signed ack beyond every event published so far (it was clamped): journal it as an anomaly. */
  onOverAck?: (upTo: number, sentUpTo: number) => void;
}

const MAX_QUEUED_ALERTS = 200;

export class EventFeed {
  /** Highest seq handed to the link since the last (re)start of sending. */
  private sentUpTo = 0;
  /**
   * Highest seq ever handed to the link by this process (feed or replay);
   * an ack is clamped to it. Starts at the acked cursor: what an earlier
   * process sent and central did not ack yet is sent again anyway.
   */
  private publishedUpTo: number;
  private lastProgressAt = 0;
  private pumping = false;
  private again = false;
  private readonly alerts: JournalEvent[] = [];
  private readonly replays: Array<{ from: number; to: number }> = [];
  private replaying = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: FeedDeps) {
    this.publishedUpTo = deps.outbox.ackedSeq();
  }

  start(): void {
    const period = Math.max(100, Math.floor(this.deps.options.ackTimeoutMs / 4));
    this.timer = setInterval(() => this.checkTimeout(), period);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A new journal event was committed: send soon, never inside the caller's tick. */
  notify(): void {
    this.schedule();
  }

  /** Urgent: published at once (or first thing after reconnect), ahead of the backlog. */
  alert(ev: JournalEvent): void {
    this.alerts.push(ev);
    if (this.alerts.length > MAX_QUEUED_ALERTS) this.alerts.shift(); // still in the feed itself
    setImmediate(() => this.flushAlerts());
  }

  /** Link up: everything unacked goes again. */
  onConnect(): void {
    this.sentUpTo = this.deps.outbox.ackedSeq();
    this.lastProgressAt = this.deps.clock();
    this.flushAlerts();
    this.schedule();
    void this.runReplays();
  }

  /** A verified events/ack. Returns the new cursor when it moved. */
  onAck(upTo: number): number | undefined {
    const { outbox, clock, log } = this.deps;
    const sent = Math.max(this.publishedUpTo, outbox.ackedSeq());
    if (upTo > sent) {
      log.debug({ upTo, sentUpTo: sent }, 'events/ack beyond the last published event: clamped');
      this.deps.onOverAck?.(upTo, sent);
    }
    const moved = outbox.ack(upTo, clock(), sent);
    if (moved === undefined) return undefined;
    this.lastProgressAt = clock();
    if (this.sentUpTo < moved) this.sentUpTo = moved;
    log.debug({ upTo: moved }, 'events acked');
    this.deps.onChange();
    this.schedule();
    return moved;
  }

  /** Unacked events older than the send (for status/bench). */
  inFlight(): number {
    return Math.max(0, this.sentUpTo - this.deps.outbox.ackedSeq());
  }

  /**
   * Republish seq from..to (central lost them); acked or not, the cursor is
   * untouched. Paced by PUBACKs so a big range cannot overflow the broker.
   * Returns the range actually available.
   */
  replay(fromSeq: number, toSeq: number | undefined): { fromSeq: number; toSeq: number; count: number } {
    const { journal } = this.deps;
    const first = (journal.checkpoint()?.seq ?? 0) + 1;
    const last = journal.lastSeq();
    const from = Math.max(fromSeq, first);
    const to = Math.min(toSeq ?? last, last);
    if (from > to) return { fromSeq: from, toSeq: to, count: 0 };
    this.replays.push({ from, to });
    void this.runReplays();
    return { fromSeq: from, toSeq: to, count: to - from + 1 };
  }

  private schedule(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    setImmediate(() => void this.pump());
  }

  private async pump(): Promise<void> {
    const { outbox, link, topics, options, log } = this.deps;
    try {
      do {
        this.again = false;
        while (link.connected) {
          const acked = outbox.ackedSeq();
          if (this.sentUpTo < acked) this.sentUpTo = acked;
          const room = options.window - (this.sentUpTo - acked);
          if (room <= 0) break;
          const batch = outbox.read(this.sentUpTo + 1, Math.min(options.batchSize, room));
          if (batch.length === 0) break;
          if (this.sentUpTo === acked) this.lastProgressAt = this.deps.clock();
          this.sentUpTo = batch[batch.length - 1]!.seq;
          if (this.sentUpTo > this.publishedUpTo) this.publishedUpTo = this.sentUpTo;
          link.publish(topics.events, JSON.stringify(batch)).catch((err: Error & { code?: string }) => {
            if (err.code !== 'OFFLINE' && err.code !== 'LINK_CLOSED') log.warn({ err: err.message }, 'event batch publish failed');
          });
          // One batch per tick: reading and serializing 500 events is the
          // biggest synchronous piece here; decisions run in between.
          await new Promise<void>((r) => setImmediate(r));
        }
      } while (this.again);
    } finally {
      this.pumping = false;
    }
  }

  private checkTimeout(): void {
    const { outbox, link, clock, options, log } = this.deps;
    if (!link.connected) return;
    const acked = outbox.ackedSeq();
    if (this.sentUpTo <= acked) return;
    if (clock() - this.lastProgressAt < options.ackTimeoutMs) return;
    log.warn({ ackedSeq: acked, sentUpTo: this.sentUpTo }, 'no events/ack in time: resending unacked events');
    this.sentUpTo = acked;
    this.lastProgressAt = clock();
    this.schedule();
  }

  private flushAlerts(): void {
    const { link, topics, log } = this.deps;
    while (link.connected && this.alerts.length) {
      const ev = this.alerts.shift()!;
      link.publish(topics.alerts, JSON.stringify(ev)).catch((err: Error) => {
        log.warn({ seq: ev.seq, err: err.message }, 'alert publish failed (it stays in the event feed)');
      });
    }
  }

  private async runReplays(): Promise<void> {
    if (this.replaying) return;
    this.replaying = true;
    const { journal, link, topics, options, log } = this.deps;
    try {
      while (this.replays.length && link.connected) {
        const r = this.replays[0]!;
        const batch = journal.range(r.from, r.to, options.batchSize);
        if (batch.length === 0) {
          this.replays.shift();
          continue;
        }
        const top = batch[batch.length - 1]!.seq;
        if (top > this.publishedUpTo) this.publishedUpTo = top;
        try {
          await link.publish(topics.events, JSON.stringify(batch));
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'replay paused until reconnect');
          return;
        }
        r.from = batch[batch.length - 1]!.seq + 1;
        if (r.from > r.to) this.replays.shift();
      }
    } finally {
      this.replaying = false;
    }
  }
}

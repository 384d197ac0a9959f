/**
 * On-site registrations to central: everything queued in the
 * RegistrationOutbox is published on `…/{gate}/registrations` until central
 * answers with a signed `…/registrations/ack {id}`; unanswered ones go again
 * after ackTimeoutMs and on every reconnect.
 */
import type { Logger } from '../log.js';
import type { Clock } from '../types.js';
import type { RegistrationOutbox } from '../store/registrations.js';
import type { MqttLink } from './mqtt-link.js';

const BATCH = 50;

export class RegistrationFeed {
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;

  constructor(
    private readonly deps: {
      outbox: RegistrationOutbox;
      link: MqttLink;
      topic: string;
      ackTimeoutMs: number;
      log: Logger;
      clock: Clock;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.send(false), Math.max(250, Math.floor(this.deps.ackTimeoutMs / 2)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Something new was queued (or the link came up): send what has not gone yet. */
  notify(all = false): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.send(all);
    });
  }

  onAck(id: string): void {
    if (this.deps.outbox.ack(id)) this.deps.log.info({ registrationId: id }, 'registration acked by central');
  }

  /** `all`: resend even those sent recently (after a reconnect). */
  private send(all: boolean): void {
    const { outbox, link, topic, ackTimeoutMs, log, clock } = this.deps;
    if (!link.connected) return;
    const now = clock();
    for (const p of outbox.pending(BATCH)) {
      if (!all && p.lastSentAt !== undefined && now - p.lastSentAt < ackTimeoutMs) continue;
      const id = p.registration.id;
      outbox.markSent(id, now);
      // The payload carries names: it is never logged.
      link.publish(topic, JSON.stringify(p.registration)).catch((err: Error) => {
        log.debug({ registrationId: id, err }, 'registration not published');
      });
    }
  }
}

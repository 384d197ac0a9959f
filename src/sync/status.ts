/**
 * The retained `…/{gate}/status`: published on connect, on every change
 * (mode, reader, whitelist version, outbox counts — the last throttled) and
 * every statusIntervalS. Its last will is `{gate, site, online:false}`.
 */
import type { Logger } from '../log.js';
import type { Clock } from '../types.js';
import type { GateControl } from '../controller/gate-api.js';
import type { Outbox } from '../store/outbox.js';
import type { WhitelistStore } from '../store/whitelist.js';
import { formatTs } from '../store/time.js';
import type { StatusMsg, WillMsg } from './protocol/schemas.js';
import type { MqttLink } from './mqtt-link.js';

export interface StatusDeps {
  gate: GateControl;
  outbox: Outbox;
  whitelist: WhitelistStore;
  link: MqttLink;
  topic: string;
  site: string;
  gateId: string;
  version: string;
  clockSynced: () => boolean;
  /** Unacked events kept past retention (JournalRetention). */
  retentionHeld: () => number;
  /** The journal's retention checkpoint ({seq, hash} of the last purged event), if any. */
  journalCheckpoint: () => { seq: number; hash: string } | undefined;
  intervalS: number;
  log: Logger;
  clock: Clock;
}

/** Outbox counts change with every event: at most one status per this. */
const MIN_GAP_MS = 1_000;

export function willMessage(gate: string, site: string): WillMsg {
  return { gate, site, online: false };
}

export class StatusPublisher {
  private timer: NodeJS.Timeout | undefined;
  private throttle: NodeJS.Timeout | undefined;
  private lastAt = 0;

  constructor(private readonly deps: StatusDeps) {}

  start(): void {
    this.timer = setInterval(() => this.publishNow(), this.deps.intervalS * 1_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.throttle) clearTimeout(this.throttle);
    this.timer = this.throttle = undefined;
  }

  build(): StatusMsg {
    const d = this.deps;
    const s = d.gate.status();
    const o = d.outbox.state();
    const held = d.retentionHeld();
    const cp = d.journalCheckpoint();
    return {
      gate: d.gateId,
      site: d.site,
      online: true,
      mode: s.mode,
      version: d.version,
      startedAt: s.startedAt,
      ts: formatTs(d.clock()),
      whitelistVersion: d.whitelist.version(),
      outbox: { pending: o.pending, oldestSeq: o.oldestSeq, ...(held > 0 ? { retentionHeld: held } : {}) },
      readers: s.readers.map((r) => ({ id: r.id, type: r.type, connected: r.connected })),
      clockSynced: d.clockSynced(),
      passKey: s.passKey,
      ...(cp ? { journal: { checkpointSeq: cp.seq, checkpointHash: cp.hash } } : {}),
    };
  }

  /** Something changed: publish soon (coalesced), at most once a second. */
  changed(): void {
    if (this.throttle) return;
    const wait = Math.max(0, this.lastAt + MIN_GAP_MS - this.deps.clock());
    this.throttle = setTimeout(() => {
      this.throttle = undefined;
      this.publishNow();
    }, wait);
    this.throttle.unref();
  }

  publishNow(): void {
    const d = this.deps;
    if (!d.link.connected) return;
    this.lastAt = d.clock();
    let msg: StatusMsg;
    try {
      msg = this.build();
    } catch (err) {
      d.log.error({ err }, 'cannot build status');
      return;
    }
    d.link.publish(d.topic, JSON.stringify(msg), { retain: true }).catch((err: Error) => {
      d.log.debug({ err }, 'status not published');
    });
  }
}

/**
 * Retention of visitor personal data (DESIGN.md: purged when its retention
 * ends): `privacy.retention.visitorDays` after a visit window ends, the
 * visitor row, the photo file and the local whitelist person go. Runs once
 * at start and then daily; every run is a `purge` journal event holding the
 * person ids alone. Expired admin sessions are swept on the same tick.
 */
import type { Logger } from '../log.js';
import type { Clock } from '../types.js';
import type { GateControl } from '../controller/gate-api.js';
import type { Store } from '../store/index.js';
import type { AccountStore } from '../store/accounts.js';
import type { VisitorStore } from '../store/visitors.js';
import type { PersonEraser } from '../store/erase.js';

const DAY_MS = 24 * 3600_000;
/** One transaction removes at most this many visitors; the next ones follow at once. */
const BATCH = 200;

export interface VisitorPurgeDeps {
  gate: GateControl;
  store: Store;
  dataDir: string;
  visitorDays: number;
  log: Logger;
  clock: Clock;
  /** Default one day. */
  intervalMs?: number;
  /** Delay of the first run after start (default 60 s: after the gate is up and quiet). */
  firstRunMs?: number;
}

export interface PurgeResult {
  purged: number;
  seq: number;
}

export class VisitorPurge {
  private timer: NodeJS.Timeout | undefined;
  private readonly visitors: VisitorStore;
  private readonly accounts: AccountStore;
  private readonly eraser: PersonEraser;

  constructor(private readonly deps: VisitorPurgeDeps) {
    this.visitors = deps.store.visitors;
    this.accounts = deps.store.accounts;
    this.eraser = deps.store.eraser(deps.dataDir);
  }

  start(): void {
    const { intervalMs = DAY_MS, firstRunMs = 60_000 } = this.deps;
    const tick = (next: number) => {
      this.timer = setTimeout(() => {
        this.runSafely();
        tick(intervalMs);
      }, next);
      this.timer.unref();
    };
    tick(firstRunMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  runSafely(): PurgeResult | undefined {
    try {
      return this.run();
    } catch (err) {
      this.deps.log.error({ err }, 'visitor retention purge failed');
      return undefined;
    }
  }

  run(): PurgeResult {
    const { store, gate, clock, visitorDays, log } = this.deps;
    const now = clock();
    const cutoff = now - visitorDays * DAY_MS;
    const personIds: string[] = [];
    try {
      for (;;) {
        const batch = this.visitors.endedBefore(cutoff, BATCH);
        if (batch.length === 0) break;
        // One transaction per batch, photos after its commit (store/erase.ts).
        // Once central has taken the person over, the whitelist entry is central's to keep or drop.
        for (const e of this.eraser.erase(batch.map((v) => v.personId), { whitelist: 'local' })) personIds.push(e.personId);
        if (batch.length < BATCH) break;
      }
    } catch (err) {
      // A later batch failed: the batches already committed are erased and stay on record.
      if (personIds.length) gate.record({ type: 'purge', scope: 'visitors', retentionDays: visitorDays, count: personIds.length, personIds });
      throw err;
    }
    const sessions = this.accounts.purgeExpiredSessions(now);
    const ev = gate.record({ type: 'purge', scope: 'visitors', retentionDays: visitorDays, count: personIds.length, personIds });
    log.info({ purged: personIds.length, sessions, seq: ev.seq }, 'visitor retention purge');
    return { purged: personIds.length, seq: ev.seq };
  }
}

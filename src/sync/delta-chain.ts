/**
 * Whitelist deltas from central, applied one version at a time in order. A
 * delta whose base is not the local version waits (briefly, in memory, at
 * most MAX_PENDING_DELTAS) for the versions in between or for the snapshot;
 * an old one is a replay and ignored.
 */
import type { Logger } from '../log.js';
import type { GateControl } from '../controller/gate-api.js';
import type { WhitelistStore } from '../store/whitelist.js';
import type { DeltaMsg } from './protocol/schemas.js';
import type { Rejections } from './inbound.js';

export interface DeltaChainDeps {
  whitelist: WhitelistStore;
  gate: GateControl;
  log: Logger;
  rejections: Rejections;
  /** Whitelist version changed (status). */
  onChange: () => void;
}

const MAX_PENDING_DELTAS = 1_000;

export class DeltaChain {
  /** Waiting deltas by base version. */
  private readonly deltas = new Map<number, DeltaMsg>();
  private gapWarnedFor = -1;

  constructor(private readonly deps: DeltaChainDeps) {}

  /** Keep `d` unless it is a replay; false when it was ignored. */
  add(d: DeltaMsg): boolean {
    if (d.version <= this.deps.whitelist.version()) {
      this.deps.log.debug({ version: d.version }, 'old whitelist delta ignored');
      return false;
    }
    this.deltas.set(d.baseVersion, d);
    if (this.deltas.size > MAX_PENDING_DELTAS) this.deltas.delete(Math.min(...this.deltas.keys()));
    return true;
  }

  /** Apply every waiting delta that follows the local version (never under a snapshot apply: the caller sees to it). */
  drain(): void {
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
}

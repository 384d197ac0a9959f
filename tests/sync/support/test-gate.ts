/**
 * A small real GateControl around a real Store: journal appends, typed
 * events, mode kept in settings. What the orchestrator does for sync,
 * without GPIO and readers (the hardware seam is not under test here).
 */
import { EventEmitter } from 'node:events';
import type { Actor, GateControl, GateEventMap, GateStatus } from '../../../src/controller/gate-api.js';
import type { GateMode } from '../../../src/controller/reasons.js';
import type { Direction } from '../../../src/types.js';
import type { Store } from '../../../src/store/index.js';
import type { JournalEvent } from '../../../src/store/types.js';
import { formatTs } from '../../../src/store/time.js';
import { isAlert } from '../../../src/controller/alerts.js';


export class TestGate extends EventEmitter<GateEventMap> implements GateControl {
  mode: GateMode = 'normal';
  readonly startedAt: string;

  constructor(
    readonly store: Store,
    readonly clock: () => number,
    readonly ids = { gate: 'g1', site: 's1' },
  ) {
    super();
    this.startedAt = formatTs(clock());
  }

  status(): GateStatus {
    return {
      gate: this.ids.gate,
      site: this.ids.site,
      mode: this.mode,
      startedAt: this.startedAt,
      readers: [{ id: 'entry', type: 'sim', direction: 'in', connected: true }],
      whitelistVersion: this.store.whitelist.version(),
      lastSeq: this.store.journal.lastSeq(),
      passKey: '-----BEGIN PUBLIC KEY-----\nTEST\n-----END PUBLIC KEY-----\n',
    };
  }

  manualOpen(direction: Direction, reason: string, actor: Actor): JournalEvent {
    return this.record({ type: 'manual_open', direction, reason, operator: actor.operator, source: actor.source });
  }

  setMode(mode: GateMode, reason: string, actor: Actor): JournalEvent {
    this.mode = mode;
    this.store.settings.set('gate.mode', mode);
    const ev = this.record({ type: 'mode_changed', mode, reason, operator: actor.operator, source: actor.source });
    this.emit('mode', mode);
    return ev;
  }

  record(event: { type: JournalEvent['type']; [k: string]: unknown }): JournalEvent {
    const ev = this.store.journal.append(event, this.clock());
    this.emit('event', ev);
    if (isAlert(ev)) this.emit('alert', ev);
    return ev;
  }

  /** Journal events of one type, oldest first. */
  events(type: JournalEvent['type']): JournalEvent[] {
    return this.store.journal.range(1, Number.MAX_SAFE_INTEGER, 1_000_000).filter((e) => e.type === type);
  }

  /** A credential presented: lookup + access event, as the hot path records it. */
  tap(key: string): JournalEvent {
    const rec = this.store.whitelist.lookup(key);
    const granted = rec?.status === 'active';
    return this.record({
      type: 'access', reader: 'entry', direction: 'in', credential: `${key.slice(0, 5)}****`,
      ...(rec ? { personId: rec.personId } : {}),
      granted, reason: rec ? (granted ? 'GRANTED' : 'BLACKLISTED') : 'UNKNOWN_CREDENTIAL',
    });
  }
}

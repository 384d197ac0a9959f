/**
 * The one orchestrator: reader → normalize → lookup → decide → journal commit
 * → relay + indicator → typed events for sync/ and admin/.
 *
 * The hot path (`present`) is synchronous from the reader's bytes to the relay
 * write: one indexed lookup, one transaction, one GPIO write. Nothing in it
 * waits on the network, a photo or a log flush, and the relay moves only
 * after the access event is committed.
 */
import { EventEmitter } from 'node:events';
import type { KeyObject } from 'node:crypto';
import type { Logger } from '../log.js';
import type { CredentialReader, RawCredential } from '../drivers/types.js';
import type { Clock, Direction } from '../types.js';
import type { GpioSet } from '../drivers/types.js';
import type { Store } from '../store/index.js';
import type { JournalEvent, NewEvent } from '../store/types.js';
import { formatTs } from '../store/time.js';
import type { Actor, GateControl, GateEventMap, GateStatus, ReaderState } from './gate-api.js';
import { GATE_MODES, type GateMode } from './reasons.js';
import { normalize, type Normalized } from './credential.js';
import { decide, escortTimeout, type Decision } from './decide.js';
import { EscortWait } from './escort-wait.js';
import { RecentTaps } from './recent-taps.js';
import { clockBehind, codeError, requireReason } from './gate-checks.js';
import { Turnstile } from './turnstile.js';
import { Indicator } from './indicator.js';
import { isAlert } from './alerts.js';

export interface GateOptions {
  gateId: string;
  site: string;
  version: string;
  access: {
    passageTimeoutMs: number;
    duplicateTapMs: number;
    antiPassback: boolean;
    escortWindowMs: number;
    doorHeldMs: number;
  };
  pulseMs: { in: number; out: number };
  idHashKey: Buffer;
}

export interface GateDeps {
  options: GateOptions;
  store: Store;
  readers: CredentialReader[];
  gpio: GpioSet;
  /** Keys that sign passes this gate accepts: central's and the gate's own. */
  passKeys: () => KeyObject[];
  /** The gate's own public key (SPKI PEM), published in its status. */
  passKeyPem: string;
  log: Logger;
  clock: Clock;
}

/** What one presented credential came to; also returned to tests and benches. */
export interface Outcome {
  decision: Decision;
  event: JournalEvent;
}

const MODE_KEY = 'gate.mode';

export class Gate extends EventEmitter<GateEventMap> implements GateControl {
  readonly turnstile: Turnstile;
  readonly indicator: Indicator;
  private mode: GateMode = 'normal';
  private readonly lastTap: RecentTaps;
  private readonly escort: EscortWait;
  private readonly unhook: Array<() => void> = [];
  private readonly readerState = new Map<string, ReaderState>();
  private startedAt = '';
  private started = false;

  constructor(private readonly deps: GateDeps) {
    super();
    const { gpio, options, clock } = deps;
    this.lastTap = new RecentTaps(options.access.duplicateTapMs);
    this.turnstile = new Turnstile({
      relays: { in: gpio.outputs.entry, out: gpio.outputs.exit },
      pulseMs: options.pulseMs,
      passageTimeoutMs: options.access.passageTimeoutMs,
      doorHeldMs: options.access.doorHeldMs,
      clock,
    });
    this.indicator = new Indicator({ green: gpio.outputs.green, red: gpio.outputs.red, buzzer: gpio.outputs.buzzer });
    this.escort = new EscortWait(options.access.escortWindowMs, (v) =>
      this.commitAccess(v.readerId, v.direction, v.display, v.key, escortTimeout(v.personId), deps.clock()),
    );
    for (const r of deps.readers) {
      this.readerState.set(r.id, { id: r.id, type: r.type, direction: r.direction, connected: r.connected });
    }
  }

  /** Relays are already in their safe state (GpioSet.start ran first). */
  async start(): Promise<void> {
    const { store, clock, log } = this.deps;
    this.startedAt = formatTs(clock());
    const saved = store.settings.get<GateMode>(MODE_KEY);
    this.mode = saved && GATE_MODES.includes(saved) ? saved : 'normal';

    const lastEventTs = store.journal.get(store.journal.lastSeq())?.ts;
    const behindMs = clockBehind(lastEventTs, clock());
    if (behindMs !== undefined) {
      this.record({ type: 'clock_warning', lastEventTs, behindMs });
      log.warn({ behindMs }, 'clock is behind the last journal event');
    }
    await this.turnstile.start();
    await this.indicator.start();
    this.turnstile.setMode(this.mode);
    this.indicator.setMode(this.mode);
    this.wireTurnstile();
    this.wireInputs();
    this.wireReaders();
    this.started = true;
    this.record({
      type: 'startup',
      version: this.deps.options.version,
      mode: this.mode,
      whitelistVersion: store.whitelist.version(),
    });
    log.info({ mode: this.mode, lastSeq: store.journal.lastSeq() }, 'gate started');
  }

  async stop(reason = 'stop'): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const off of this.unhook.splice(0)) off();
    this.escort.clear();
    this.record({ type: 'shutdown', reason });
    await this.indicator.stop();
    await this.turnstile.stop();
  }

  // ---------------------------------------------------------------- hot path

  /** A credential presented at a reader. Synchronous up to the relay write. */
  present(readerId: string, direction: Direction, raw: RawCredential, atMs = this.deps.clock()): Outcome {
    const { store, options } = this.deps;
    const cred = normalize(raw, { idHashKey: options.idHashKey, passKeys: this.deps.passKeys });
    if (!cred.ok) {
      return this.commitAccess(readerId, direction, cred.display, undefined, {
        granted: false,
        reason: cred.reason,
        alert: false,
      }, atMs);
    }

    const record = store.whitelist.lookup(cred.key);
    const schedule = record?.scheduleId ? store.whitelist.schedule(record.scheduleId) : undefined;
    const last = this.lastTap.get(cred.key);
    const decision = decide(cred, {
      nowMs: atMs,
      gateId: options.gateId,
      site: options.site,
      mode: this.mode,
      direction,
      record,
      schedule,
      lastDirection: record ? record.lastDirection : store.access.unlistedDirection(cred.key),
      antiPassback: options.access.antiPassback,
      lastTapMs: last && last.readerId === readerId ? last.atMs : undefined,
      duplicateTapMs: options.access.duplicateTapMs,
      passEntriesUsed: record ? undefined : store.access.entriesUsed(cred.key),
    });
    if (decision.reason !== 'DUPLICATE_TAP') this.lastTap.note(cred.key, { atMs, readerId });

    if (decision.escortWait) return this.startEscortWait(readerId, direction, cred, decision, atMs);

    // A staff or security grant at the reader where a visitor waits escorts them in.
    const visitor = decision.granted && record ? this.escort.escortedBy({ kind: record.kind, readerId, nowMs: atMs }) : undefined;
    let passages = 1;
    if (visitor && record) {
      const escorted: Decision = { granted: true, reason: 'GRANTED', alert: false };
      if (visitor.personId !== undefined) escorted.personId = visitor.personId;
      this.commitAccess(readerId, visitor.direction, visitor.display, visitor.key, escorted, atMs, {
        key: visitor.key,
        escortedBy: record.personId,
        skipRelay: true,
      });
      passages = 2;
    }
    // Entries are counted only where a limit can apply: one less page written per tap otherwise.
    const counted = record?.maxEntries !== undefined || cred.kind === 'pass';
    return this.commitAccess(readerId, direction, cred.display, cred.key, decision, atMs, {
      key: counted ? cred.key : undefined,
      passages,
    });
  }

  private startEscortWait(
    readerId: string,
    direction: Direction,
    cred: Extract<Normalized, { ok: true }>,
    decision: Decision,
    atMs: number,
  ): Outcome {
    const outcome = this.commitAccess(readerId, direction, cred.display, cred.key, decision, atMs);
    this.escort.start({ personId: decision.personId, key: cred.key, display: cred.display, readerId, direction, atMs });
    return outcome;
  }

  /**
   * Commit the access event (journal + entry count + presence in one
   * transaction), THEN move the relay and the indicator, then tell listeners.
   * A listed person's presence is their granted event itself (store/access.ts);
   * a grant with no person id keeps its credential key's presence row.
   */
  private commitAccess(
    readerId: string,
    direction: Direction,
    display: string,
    credentialKey: string | undefined,
    decision: Decision,
    atMs: number,
    opts: { key?: string; passages?: number; escortedBy?: string; skipRelay?: boolean } = {},
  ): Outcome {
    const event: NewEvent = {
      type: 'access',
      reader: readerId,
      direction,
      credential: display,
      granted: decision.granted,
      reason: decision.reason,
    };
    if (decision.personId) event.personId = decision.personId;
    // Let through by the emergency, still a blacklist hit: the event says so (controller/alerts.ts).
    if (decision.alert && decision.granted) event.blacklisted = true;
    if (opts.escortedBy) event.escortedBy = opts.escortedBy;
    const committed = this.deps.store.access.record({
      event,
      nowMs: atMs,
      countEntryFor: decision.granted && direction === 'in' && opts.key ? opts.key : undefined,
      unlisted: decision.granted && decision.personId === undefined && credentialKey ? { key: credentialKey, direction } : undefined,
    });
    if (decision.granted && !opts.skipRelay) {
      this.turnstile.unlock(direction, { grantRef: committed.id, passages: opts.passages ?? 1 });
    }
    // A duplicate tap right after a grant must not flash red at a person walking through.
    if (decision.escortWait) {
      this.indicator.show('escortWait', { repeatForMs: this.deps.options.access.escortWindowMs });
    } else if (!opts.skipRelay && decision.reason !== 'DUPLICATE_TAP') {
      this.indicator.show(decision.granted ? 'granted' : decision.alert ? 'alert' : 'denied');
    }
    this.publish(committed);
    return { decision, event: committed };
  }

  // ------------------------------------------------------------ GateControl

  status(): GateStatus {
    const { options, store } = this.deps;
    return {
      gate: options.gateId,
      site: options.site,
      mode: this.mode,
      startedAt: this.startedAt,
      readers: [...this.readerState.values()].map((r) => ({ ...r })),
      whitelistVersion: store.whitelist.version(),
      lastSeq: store.journal.lastSeq(),
      passKey: this.deps.passKeyPem,
    };
  }

  manualOpen(direction: Direction, reason: string, actor: Actor): JournalEvent {
    const text = requireReason(reason);
    const ev = this.record({ type: 'manual_open', direction, reason: text, operator: actor.operator, source: actor.source });
    if (this.mode !== 'emergency') this.turnstile.unlock(direction, { grantRef: ev.id, passages: 1 });
    this.indicator.show('granted');
    return ev;
  }

  setMode(mode: GateMode, reason: string, actor: Actor): JournalEvent {
    if (!GATE_MODES.includes(mode)) throw codeError('BAD_MODE', `unknown mode "${String(mode)}"`);
    const text = requireReason(reason);
    const from = this.mode;
    const ev = this.record({ type: 'mode_changed', from, to: mode, reason: text, operator: actor.operator, source: actor.source });
    this.deps.store.settings.set(MODE_KEY, mode);
    this.mode = mode;
    if (mode !== 'normal') this.escort.clear();
    this.turnstile.setMode(mode);
    this.indicator.setMode(mode);
    this.emit('mode', mode);
    // The operator is in the event: account names are often people's names, and logs carry none.
    this.deps.log.warn({ seq: ev.seq, from, to: mode, source: actor.source }, 'mode changed');
    return ev;
  }

  record(input: { type: JournalEvent['type']; [k: string]: unknown }): JournalEvent {
    const ev = this.deps.store.journal.append(input as NewEvent, this.deps.clock());
    this.publish(ev);
    return ev;
  }

  currentMode(): GateMode {
    return this.mode;
  }

  // ------------------------------------------------------------------ wiring

  /** Alerts (controller/alerts.ts) go to sync ahead of the backlog and stay on the admin page until acknowledged. */
  private publish(ev: JournalEvent): void {
    this.emit('event', ev);
    if (isAlert(ev)) this.emit('alert', ev);
  }

  private wireTurnstile(): void {
    const t = this.turnstile;
    const on = <K extends 'passage' | 'notPassed' | 'doorForced' | 'doorHeld'>(
      name: K,
      fn: (...args: never[]) => void,
    ): void => {
      t.on(name, fn as never);
      this.unhook.push(() => t.off(name, fn as never));
    };
    on('passage', (p: { direction: Direction; grantRef?: string }) =>
      this.record({ type: 'passage', direction: p.direction, grantRef: p.grantRef, passed: true }),
    );
    on('notPassed', (p: { direction: Direction; grantRef?: string }) =>
      this.record({ type: 'passage', direction: p.direction, grantRef: p.grantRef, passed: false }),
    );
    on('doorForced', () => {
      this.record({ type: 'door_forced' });
      this.indicator.show('alert');
    });
    on('doorHeld', (p: { openMs: number }) => this.record({ type: 'door_held', openMs: p.openMs }));
  }

  private wireInputs(): void {
    const { inputs } = this.deps.gpio;
    const hook = (input: typeof inputs.passage, fn: (active: boolean, at: number) => void) => {
      if (input) this.unhook.push(input.onChange(fn));
    };
    hook(inputs.passage, (active, at) => active && this.turnstile.passageSensed(at));
    hook(inputs.door, (active, at) => {
      // A door strike has no rotation sensor: the door opening is the passage.
      if (active && !inputs.passage) this.turnstile.passageSensed(at);
      this.turnstile.doorChanged(active, at);
    });
    hook(inputs.exitButton, (active) => {
      if (active) this.manualOpen('out', 'exit button', { operator: 'exit-button', source: 'local' });
    });
    hook(inputs.fireAlarm, (active) => {
      this.record({ type: 'fire_alarm', active });
      // A fire frees every passage at once; restoring normal is a person's decision.
      if (active && this.mode !== 'emergency') {
        this.setMode('emergency', 'fire alarm input', { operator: 'fire-alarm', source: 'local' });
      }
    });
    hook(inputs.tamper, (active) => {
      this.record({ type: 'tamper', active });
      if (active) this.indicator.show('alert');
    });
  }

  private wireReaders(): void {
    for (const reader of this.deps.readers) {
      const onCred = (raw: RawCredential, at: number) => {
        if (!this.started) return;
        try {
          this.present(reader.id, reader.direction, raw, at);
        } catch (err) {
          // A tap we could not record must not open anything; say why loudly.
          this.deps.log.error({ err, reader: reader.id }, 'tap could not be processed');
          this.indicator.show('readerFault');
        }
      };
      const onStatus = (connected: boolean, detail: string) => {
        const state = { id: reader.id, type: reader.type, direction: reader.direction, connected };
        const prev = this.readerState.get(reader.id);
        this.readerState.set(reader.id, state);
        if (prev?.connected === connected && this.started) return;
        this.record({ type: 'reader_status', reader: reader.id, connected, detail });
        if (!connected) this.indicator.show('readerFault');
        this.emit('reader', state);
      };
      const onRejected = (reason: string) => {
        this.deps.log.warn({ reader: reader.id, reason }, 'reader input rejected');
        this.indicator.show('denied');
      };
      reader.on('credential', onCred);
      reader.on('status', onStatus);
      reader.on('rejected', onRejected);
      this.unhook.push(() => {
        reader.off('credential', onCred);
        reader.off('status', onStatus);
        reader.off('rejected', onRejected);
      });
    }
  }

}

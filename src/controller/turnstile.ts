/**
 * The turnstile (or door) state machine: idle → unlocked → passed | timeout → idle,
 * with the modes normal / lockdown / emergency.
 *
 * It owns the direction relays and nothing else: the orchestrator tells it
 * when a grant was committed (`unlock`), when the passage input rose
 * (`passageSensed`) and when the door contact moved (`doorChanged`); it
 * answers with typed events the orchestrator journals. Every time comes from
 * the injected clock or from the caller's `atMs`, so tests drive it with fake
 * timers.
 */
import { EventEmitter } from 'node:events';
import type { DigitalOutput } from '../drivers/types.js';
import type { Clock, Direction } from '../types.js';
import type { GateMode } from './reasons.js';

export interface TurnstileDeps {
  /** Direction relays. A door strike has one: the other direction falls back to it. */
  relays: { in?: DigitalOutput; out?: DigitalOutput };
  /** How long each direction's relay stays energized per unlock. */
  pulseMs: { in: number; out: number };
  /** A grant with no passage within this time is reported as `notPassed`. */
  passageTimeoutMs: number;
  /** A door open longer than this is reported once as `doorHeld`. */
  doorHeldMs: number;
  clock: Clock;
}

/** `free`: emergency mode, every relay held active, passages free. */
export type TurnstileState = 'idle' | 'unlocked' | 'free';

export interface PassageInfo {
  direction: Direction;
  grantRef?: string;
  atMs: number;
}

export interface NotPassedInfo extends PassageInfo {
  /** Passages the grant allowed but nobody made (1 for a single grant). */
  missed: number;
}

export interface TurnstileEventMap {
  /** One per passage made under a grant. */
  passage: [info: PassageInfo];
  /** A grant (or the rest of a multi-passage grant) lapsed after `passageTimeoutMs`. */
  notPassed: [info: NotPassedInfo];
  /** The door opened with no grant pending, outside emergency. */
  doorForced: [info: { atMs: number }];
  /** The door stayed open longer than `doorHeldMs` (once per opening). */
  doorHeld: [info: { openMs: number; atMs: number }];
}

export interface UnlockOptions {
  /** Opaque reference the orchestrator uses to tie the passage to its access event (e.g. the journal seq). */
  grantRef?: string;
  /** How many passages this grant allows (default 1). */
  passages?: number;
}

interface PendingGrant {
  direction: Direction;
  grantRef?: string;
  remaining: number;
  timer?: NodeJS.Timeout;
}

export class Turnstile extends EventEmitter<TurnstileEventMap> {
  readonly #deps: TurnstileDeps;
  #mode: GateMode = 'normal';
  /** Grants waiting for their passage, oldest first: the passage input has no direction, so passages go FIFO. */
  readonly #pending: PendingGrant[] = [];
  readonly #pulseTimers = new Map<DigitalOutput, NodeJS.Timeout>();
  #doorOpenAt: number | undefined;
  #doorHeldTimer: NodeJS.Timeout | undefined;

  constructor(deps: TurnstileDeps) {
    super();
    this.#deps = deps;
  }

  get state(): TurnstileState {
    if (this.#mode === 'emergency') return 'free';
    return this.#pending.length > 0 ? 'unlocked' : 'idle';
  }

  get mode(): GateMode {
    return this.#mode;
  }

  /** Grants still waiting for a passage, oldest first. */
  pending(): Array<{ direction: Direction; grantRef?: string; remaining: number }> {
    return this.#pending.map(({ direction, grantRef, remaining }) => ({ direction, grantRef, remaining }));
  }

  /**
   * Safe state first: every relay inactive before anything else can move it.
   * Synchronous inside: the relays are inactive when the call returns.
   */
  async start(): Promise<void> {
    for (const relay of this.#relays()) relay.set(false);
    if (this.#mode === 'emergency') this.#holdAll(true);
  }

  /** Clears every timer, drops pending grants without events, relays inactive. */
  async stop(): Promise<void> {
    for (const g of this.#pending) clearTimeout(g.timer);
    this.#pending.length = 0;
    for (const t of this.#pulseTimers.values()) clearTimeout(t);
    this.#pulseTimers.clear();
    this.#clearDoorHeld();
    this.#doorOpenAt = undefined;
    for (const relay of this.#relays()) relay.set(false);
  }

  /**
   * Emergency holds every relay active until the mode leaves emergency.
   * Lockdown changes nothing here: who may pass is decide()'s business, and a
   * security grant or a manual open still has to turn the turnstile.
   */
  setMode(mode: GateMode): void {
    if (mode === this.#mode) return;
    const wasEmergency = this.#mode === 'emergency';
    this.#mode = mode;
    if (mode === 'emergency') {
      for (const t of this.#pulseTimers.values()) clearTimeout(t);
      this.#pulseTimers.clear();
      this.#clearDoorHeld();
      this.#holdAll(true);
    } else if (wasEmergency) {
      this.#holdAll(false);
      // A door left open when the emergency ends is timed from now.
      if (this.#doorOpenAt !== undefined) this.#armDoorHeld(this.#deps.clock());
    }
  }

  /**
   * Let passages through in one direction. Called only after the grant's
   * access event is committed. In emergency the relays are already held, so
   * only the passage is awaited.
   */
  unlock(direction: Direction, opts: UnlockOptions = {}): void {
    const passages = opts.passages ?? 1;
    if (!Number.isInteger(passages) || passages < 1) {
      throw Object.assign(new RangeError(`passages must be a positive integer, got ${passages}`), {
        code: 'ERR_TURNSTILE_PASSAGES',
      });
    }
    if (this.#mode !== 'emergency') this.#pulse(direction);
    const grant: PendingGrant = { direction, remaining: passages };
    if (opts.grantRef !== undefined) grant.grantRef = opts.grantRef;
    grant.timer = this.#armPassageTimeout(grant);
    this.#pending.push(grant);
  }

  /**
   * The passage input rose (rotation done). Credited to the oldest pending
   * grant; a rotation with no grant pending (emergency free passage, or a
   * forced arm) has no known direction and is ignored.
   */
  passageSensed(atMs: number): void {
    const grant = this.#pending[0];
    if (!grant) return;
    grant.remaining -= 1;
    clearTimeout(grant.timer);
    if (grant.remaining === 0) this.#pending.shift();
    else grant.timer = this.#armPassageTimeout(grant); // each further passage gets its own full window
    this.emit('passage', this.#info(grant, atMs));
  }

  /** The door contact moved (`open` true = opened). */
  doorChanged(open: boolean, atMs: number): void {
    if (!open) {
      this.#doorOpenAt = undefined;
      this.#clearDoorHeld();
      return;
    }
    if (this.#doorOpenAt !== undefined) return; // already open: a repeated edge is not a new opening
    this.#doorOpenAt = atMs;
    if (this.#mode === 'emergency') return;
    if (this.#pending.length === 0 && !this.#anyRelayActive()) this.emit('doorForced', { atMs });
    this.#armDoorHeld(atMs);
  }

  #armDoorHeld(openedAt: number): void {
    this.#clearDoorHeld();
    const delay = Math.max(0, this.#deps.doorHeldMs - (this.#deps.clock() - openedAt));
    this.#doorHeldTimer = setTimeout(() => {
      this.#doorHeldTimer = undefined;
      if (this.#doorOpenAt === undefined) return;
      const now = this.#deps.clock();
      this.emit('doorHeld', { openMs: now - this.#doorOpenAt, atMs: now });
    }, delay);
  }

  #clearDoorHeld(): void {
    if (this.#doorHeldTimer) clearTimeout(this.#doorHeldTimer);
    this.#doorHeldTimer = undefined;
  }

  #armPassageTimeout(grant: PendingGrant): NodeJS.Timeout {
    return setTimeout(() => {
      const i = this.#pending.indexOf(grant);
      if (i >= 0) this.#pending.splice(i, 1);
      this.emit('notPassed', { ...this.#info(grant, this.#deps.clock()), missed: grant.remaining });
    }, this.#deps.passageTimeoutMs);
  }

  /** Energize the direction's relay for pulseMs; a new unlock while pulsing restarts the pulse. */
  #pulse(direction: Direction): void {
    const relay = this.#relayFor(direction);
    if (!relay) return;
    const running = this.#pulseTimers.get(relay);
    if (running) clearTimeout(running);
    relay.set(true);
    this.#pulseTimers.set(
      relay,
      setTimeout(() => {
        this.#pulseTimers.delete(relay);
        if (this.#mode !== 'emergency') relay.set(false);
      }, this.#deps.pulseMs[direction]),
    );
  }

  #relayFor(direction: Direction): DigitalOutput | undefined {
    const { relays } = this.#deps;
    return direction === 'in' ? (relays.in ?? relays.out) : (relays.out ?? relays.in);
  }

  #relays(): DigitalOutput[] {
    const { in: a, out: b } = this.#deps.relays;
    return [...new Set([a, b].filter((r): r is DigitalOutput => r !== undefined))];
  }

  #holdAll(active: boolean): void {
    for (const relay of this.#relays()) relay.set(active);
  }

  #anyRelayActive(): boolean {
    return this.#pulseTimers.size > 0;
  }

  #info(grant: PendingGrant, atMs: number): PassageInfo {
    const info: PassageInfo = { direction: grant.direction, atMs };
    if (grant.grantRef !== undefined) info.grantRef = grant.grantRef;
    return info;
  }
}

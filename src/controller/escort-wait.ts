/**
 * The one visitor waiting for an escort at the gate: started by an
 * ESCORT_REQUIRED decision, ended by a staff or security grant at the same
 * reader within the window (resolveEscort in decide.ts), or by the window
 * lapsing — then `onTimeout` records ESCORT_TIMEOUT.
 */
import type { Direction } from '../types.js';
import type { PersonKind } from '../store/types.js';
import { resolveEscort } from './decide.js';

export interface WaitingVisitor {
  /** The listed person; none for a credential with no whitelist record (a QR pass). */
  personId: string | undefined;
  key: string;
  /** Masked credential, as journaled. */
  display: string;
  readerId: string;
  direction: Direction;
  atMs: number;
}

export class EscortWait {
  private waiting: (WaitingVisitor & { timer: NodeJS.Timeout }) | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly onTimeout: (visitor: WaitingVisitor) => void,
  ) {}

  /** A new visitor waits (replacing any earlier one: one turnstile, one escort at a time). */
  start(visitor: WaitingVisitor): void {
    this.clear();
    const timer = setTimeout(() => {
      const v = this.waiting;
      this.waiting = undefined;
      if (v) this.onTimeout(v);
    }, this.windowMs);
    timer.unref?.();
    this.waiting = { ...visitor, timer };
  }

  /** A granted tap: the visitor it escorts in, if any (the wait ends then). */
  escortedBy(candidate: { kind: PersonKind; readerId: string; nowMs: number }): WaitingVisitor | undefined {
    if (!this.waiting || resolveEscort(this.waiting, candidate, this.windowMs) !== 'grant-visitor') return undefined;
    const { timer, ...visitor } = this.waiting;
    this.clear();
    return visitor;
  }

  clear(): void {
    if (this.waiting) clearTimeout(this.waiting.timer);
    this.waiting = undefined;
  }
}

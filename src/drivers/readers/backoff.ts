/**
 * Exponential back-off for reconnecting to hardware that went away (a USB
 * serial reader unplugged, pcscd restarted): quick first retries so a replug
 * is picked up at once, capped so a reader gone for good costs little.
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private current: number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 250;
    this.maxMs = opts.maxMs ?? 5_000;
    this.current = this.initialMs;
  }

  /** The delay before the next attempt; each call doubles the following one, up to the cap. */
  next(): number {
    const delay = this.current;
    this.current = Math.min(this.current * 2, this.maxMs);
    return delay;
  }

  /** A connection succeeded: the next outage starts over from the initial delay. */
  reset(): void {
    this.current = this.initialMs;
  }
}

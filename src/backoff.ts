/**
 * Exponential back-off for reconnecting to whatever went away: a USB serial
 * or SAM reader unplugged, pcscd restarted (quick first retries, so a replug
 * is picked up at once, capped so a reader gone for good costs little), the
 * MQTT broker (the link adds jitter, so a site's gates do not reconnect in
 * step after the broker restarts). One helper for the readers and the link.
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private current: number;
  private count = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 250;
    this.maxMs = opts.maxMs ?? 5_000;
    this.current = this.initialMs;
  }

  /** The delay before the next attempt; each call doubles the following one, up to the cap. */
  next(): number {
    const delay = this.current;
    this.current = Math.min(this.current * 2, this.maxMs);
    this.count++;
    return delay;
  }

  /** A connection succeeded: the next outage starts over from the initial delay. */
  reset(): void {
    this.current = this.initialMs;
    this.count = 0;
  }

  /** Delays handed out since the last reset (for logs). */
  get attempts(): number {
    return this.count;
  }
}

/** `ms` spread uniformly over ±`fraction` of itself, rounded to whole milliseconds. */
export function jittered(ms: number, fraction: number, random: () => number = Math.random): number {
  return Math.round(ms * (1 - fraction + random() * 2 * fraction));
}

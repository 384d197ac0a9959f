/**
 * The last tap of each credential, for duplicate-tap suppression. Only taps
 * younger than the window matter, so older ones are dropped as new ones
 * come: the map holds one window's worth of taps, not every card ever seen
 * (a million-card site would otherwise grow it for as long as the daemon runs).
 */
export interface LastTap {
  atMs: number;
  readerId: string;
}

export class RecentTaps {
  /** Insertion order is tap order (a key is re-inserted on every tap), oldest first. */
  private readonly taps = new Map<string, LastTap>();

  constructor(private readonly windowMs: number) {}

  get(key: string): LastTap | undefined {
    return this.taps.get(key);
  }

  note(key: string, tap: LastTap): void {
    if (this.windowMs <= 0) return;
    this.taps.delete(key);
    this.taps.set(key, tap);
    // Oldest first: stop at the first one still inside the window. A clock
    // stepped back leaves a few out of order; they go when the clock passes them.
    for (const [k, t] of this.taps) {
      if (tap.atMs - t.atMs < this.windowMs) break;
      this.taps.delete(k);
    }
  }

  get size(): number {
    return this.taps.size;
  }
}

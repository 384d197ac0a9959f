/**
 * When the collector sends each gate its ack. An ack is an Ed25519-signed
 * envelope (a signature here, a verification at the gate: ~30 µs and ~75 µs
 * on the development machine), so a gate publishing every event as it
 * happens must not get one per event. Acks to one gate are at least `gap`
 * apart and the latest upTo waits out the gap. The gap is 200 ms while few
 * gates are acked and grows with their number so that one collector signs
 * about ACKS_PER_S acks a second at most: at 1,000 gates and 10,000
 * events/s, 200 ms meant 5,000 signatures a second per collector and twice
 * that in verifications at the gates (measured in bench/fleet), for a
 * latency no gate needs (its ack timeout is 10 s).
 */
export const MIN_GAP_MS = 200;
export const MAX_GAP_MS = 2_000;
export const ACKS_PER_S = 1_000;

interface Pending {
  site: string;
  at: number;
  upTo: number;
  timer: NodeJS.Timeout | undefined;
}

export class AckPacer {
  private readonly acks = new Map<string, Pending>();
  private readonly recent = new Set<string>();
  private windowStart = 0;
  private gap = MIN_GAP_MS;

  constructor(
    private readonly send: (site: string, gate: string, upTo: number) => void,
    private readonly now: () => number,
  ) {}

  /** The current gap between two acks to one gate (ms). */
  get gapMs(): number {
    return this.gap;
  }

  /** Ack `upTo` to the gate now, or when its gap has passed (a higher upTo given meanwhile replaces it). */
  ack(site: string, gate: string, upTo: number): void {
    const now = this.now();
    this.adapt(now, gate);
    const a = this.acks.get(gate) ?? { site, at: 0, upTo: 0, timer: undefined };
    this.acks.set(gate, a);
    a.site = site;
    a.upTo = Math.max(a.upTo, upTo);
    if (a.timer) return;
    const wait = a.at + this.gap - now;
    if (wait <= 0) return this.fire(gate, a);
    a.timer = setTimeout(() => this.fire(gate, a), wait);
  }

  stop(): void {
    for (const a of this.acks.values()) clearTimeout(a.timer);
    this.acks.clear();
  }

  private fire(gate: string, a: Pending): void {
    a.timer = undefined;
    a.at = this.now();
    this.send(a.site, gate, a.upTo);
  }

  /** Once a second: the gap that keeps this collector near ACKS_PER_S for the gates acked in the last second. */
  private adapt(now: number, gate: string): void {
    this.recent.add(gate);
    if (now - this.windowStart < 1_000) return;
    this.gap = Math.min(MAX_GAP_MS, Math.max(MIN_GAP_MS, Math.ceil((this.recent.size * 1_000) / ACKS_PER_S)));
    this.recent.clear();
    this.windowStart = now;
  }
}

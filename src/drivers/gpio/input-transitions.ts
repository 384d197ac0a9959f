/**
 * Debounced transitions of one input, shared by the onoff and sim inputs.
 *
 * We do not use onoff's `debounceTimeout`: it is a lodash debounce that
 * delays every event by the timeout (fivdi/onoff#51). And the value handed to
 * a `watch()` callback is read after wake-up, so short pulses can be merged
 * or dropped (fivdi/onoff#191). So every wake-up is only a hint: we re-read
 * the line when it has been quiet for `debounceMs` and emit only when the
 * settled level differs from the last one we reported.
 */
import type { Logger } from '../../log.js';
import type { Clock } from '../../types.js';

type Listener = (active: boolean, atMs: number) => void;

export class InputTransitions {
  private stable = false;
  private timer: NodeJS.Timeout | undefined;
  /** Clock time of the first wake-up of the burst being settled. */
  private burstStart: number | undefined;
  private readonly listeners = new Set<Listener>();

  constructor(
    private readonly name: string,
    private readonly opts: { debounceMs: number; clock: Clock; log: Logger },
  ) {}

  get(): boolean {
    return this.stable;
  }

  /** The level at start: no event, it is not a transition. */
  prime(active: boolean): void {
    this.stable = active;
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A wake-up from the line. `read` gives the current logical level; it is
   * called now when there is no debounce, else once the line is quiet.
   */
  wake(read: () => boolean): void {
    const now = this.opts.clock();
    if (this.opts.debounceMs === 0) {
      this.settle(read(), now);
      return;
    }
    this.burstStart ??= now;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const at = this.burstStart ?? now;
      this.burstStart = undefined;
      let level: boolean;
      try {
        level = read();
      } catch (err) {
        this.opts.log.warn({ line: this.name, err }, 'gpio input read failed');
        return;
      }
      this.settle(level, at);
    }, this.opts.debounceMs);
  }

  /** Emit if `active` is a real transition; `atMs` is when it began. */
  settle(active: boolean, atMs: number): void {
    if (active === this.stable) return;
    this.stable = active;
    for (const l of [...this.listeners]) {
      try {
        l(active, atMs);
      } catch (err) {
        this.opts.log.error({ line: this.name, err }, 'gpio input listener threw');
      }
    }
  }

  /** Cancel a pending settle; listeners stay (a restart keeps its subscribers). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.burstStart = undefined;
  }
}

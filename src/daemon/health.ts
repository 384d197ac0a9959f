/**
 * What the systemd watchdog vouches for. The ping timer firing at all proves
 * the event loop runs; on top of that every reader must be connected, or be
 * within its grace period while its own reconnect loop works. A reader gone
 * longer than that stops the pings, so systemd restarts the daemon — the one
 * remedy left for a wedged pcscd client or serial handle.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Clock } from '../types.js';
import type { ReaderState } from '../controller/gate-api.js';

export interface HealthOptions {
  clock: Clock;
  /** How long a reader may stay disconnected before the daemon counts as unhealthy. */
  readerGraceMs: number;
  /** Event-loop delay (p99 over the last interval) above which the daemon counts as unhealthy. */
  maxLoopDelayMs: number;
}

export class Health {
  private readonly downSince = new Map<string, number>();
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });

  constructor(private readonly opts: HealthOptions) {}

  start(readers: ReaderState[]): void {
    for (const r of readers) this.reader(r);
    this.loop.enable();
  }

  stop(): void {
    this.loop.disable();
  }

  /** Feed every reader state change (Gate 'reader' events). */
  reader(state: ReaderState): void {
    if (state.connected) this.downSince.delete(state.id);
    else if (!this.downSince.has(state.id)) this.downSince.set(state.id, this.opts.clock());
  }

  /** Called at each watchdog interval; resets the loop-delay window. */
  check(): { healthy: boolean; why?: string } {
    const now = this.opts.clock();
    for (const [id, since] of this.downSince) {
      if (now - since > this.opts.readerGraceMs) return { healthy: false, why: `reader ${id} disconnected for ${Math.round((now - since) / 1000)} s` };
    }
    const p99 = this.loop.percentile(99) / 1e6;
    this.loop.reset();
    if (p99 > this.opts.maxLoopDelayMs) return { healthy: false, why: `event loop delay p99 ${p99.toFixed(0)} ms` };
    return { healthy: true };
  }
}

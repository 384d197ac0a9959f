/**
 * Alerts (blacklist hit, forced door, tamper, fire, mode change, reader fault)
 * stay on the page until a guard acknowledges them, across restarts. Only
 * journal seq numbers are kept (in settings), so no personal data is copied
 * out of the journal and the purge has nothing extra to clear.
 */
import type { Settings } from '../store/settings.js';

const KEY = 'admin.alerts.open';
/** Bound on remembered alerts; a flood beyond it keeps the newest. */
const MAX_OPEN = 500;

interface OpenAlerts {
  seqs: number[];
}

export class AlertBoard {
  constructor(private readonly settings: Settings) {}

  open(): number[] {
    return this.settings.get<OpenAlerts>(KEY)?.seqs ?? [];
  }

  raise(seq: number): void {
    const seqs = this.open();
    if (seqs.includes(seq)) return;
    seqs.push(seq);
    this.settings.set(KEY, { seqs: seqs.slice(-MAX_OPEN) } satisfies OpenAlerts);
  }

  /** Returns the seqs that were open and are now acknowledged. */
  acknowledge(seqs: number[] | 'all'): number[] {
    const open = this.open();
    const done = seqs === 'all' ? open : open.filter((s) => seqs.includes(s));
    if (done.length) this.settings.set(KEY, { seqs: open.filter((s) => !done.includes(s)) } satisfies OpenAlerts);
    return done;
  }
}

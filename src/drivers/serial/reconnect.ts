/**
 * The reconnect-and-report step the serial line readers and the SAM session
 * share: a device that went away (unplugged, would not open) is reported down
 * once per outage, reopened after the next Backoff delay, and reported up
 * again when its owner says so. One status per change, never a storm of them
 * while a reader stays unplugged.
 */
import { Backoff, type BackoffOptions } from '../../backoff.js';
import type { Logger } from '../../log.js';

export interface ReconnectDeps {
  log: Logger;
  backoff?: BackoffOptions;
}

export interface ReconnectHooks {
  /** Whether the owner still runs: a stopped owner is neither reported down nor reopened. */
  running(): boolean;
  /** Try to open the device again (after a back-off delay). */
  reopen(): void;
  /** Every status change, as the reader reports it. */
  status(connected: boolean, detail: string): void;
}

export class Reconnect {
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | undefined;
  private isConnected = false;
  /** Whether the current outage was already reported (one status per change). */
  private downReported = false;

  /** `name`: what the device is called in the log (`${name} down, retrying`). */
  constructor(
    private readonly name: string,
    private readonly device: { id: string; path: string },
    private readonly deps: ReconnectDeps,
    private readonly hooks: ReconnectHooks,
  ) {
    this.backoff = new Backoff(deps.backoff);
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** The device opened: the next outage is reported again, and retried from the first delay. */
  opened(): void {
    this.backoff.reset();
    this.downReported = false;
  }

  up(detail: string): void {
    this.setConnected(true, detail);
  }

  /**
   * Report the device down unless this outage was already reported; no reopen
   * (the port is open, the device behind it is not usable). True when it reported.
   */
  markDown(detail: string): boolean {
    if (!this.isConnected && this.downReported) return false;
    this.downReported = true;
    this.setConnected(false, detail);
    return true;
  }

  /** The device went away or would not open: report it down (once per outage) and reopen after the next delay. */
  lost(detail: string): void {
    if (!this.hooks.running()) return;
    if (this.isConnected || !this.downReported) {
      this.deps.log.warn({ reader: this.device.id, path: this.device.path, detail }, `${this.name} down, retrying`);
      this.markDown(detail);
    }
    const delay = this.backoff.next();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.hooks.running()) this.hooks.reopen();
    }, delay);
  }

  /** Stopping: no reopen from here on. */
  cancel(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Stopped: a reader that was up is reported down as `stopped`. */
  stopped(): void {
    if (this.isConnected) this.setConnected(false, 'stopped');
  }

  private setConnected(connected: boolean, detail: string): void {
    this.isConnected = connected;
    this.hooks.status(connected, detail);
  }
}

/**
 * The subset of onoff's `Gpio` class this driver uses. The real class
 * (onoff-real.ts) and the fake (fake-onoff.ts) both satisfy it, and the
 * driver receives one by injection: tests never patch module paths.
 */
export type OnoffDirection = 'in' | 'out' | 'high' | 'low';
export type OnoffEdge = 'none' | 'rising' | 'falling' | 'both';
export type OnoffLevel = 0 | 1;

export interface OnoffOptions {
  /** We always pass `false` and invert in our own code (see onoff-lines.ts). */
  activeLow?: boolean;
  /** `false` keeps an already-exported output's level: no glitch on restart. */
  reconfigureDirection?: boolean;
  /** Never used: it delays every event (fivdi/onoff#51). */
  debounceTimeout?: number;
}

export type OnoffWatcher = (err: Error | null | undefined, value: OnoffLevel) => void;

/** One exported line. Values are what onoff reads/writes in `value`. */
export interface OnoffLine {
  readSync(): OnoffLevel;
  writeSync(value: OnoffLevel): void;
  watch(callback: OnoffWatcher): void;
  unwatchAll(): void;
  unexport(): void;
}

/**
 * `new Gpio(sysfsNumber, direction, edge, options)` exports the line (or
 * adopts an already-exported one) and configures it; it throws the errno of
 * the sysfs write that failed (EACCES, EINVAL, EBUSY, ...).
 */
export type OnoffLike = new (
  gpio: number,
  direction: OnoffDirection,
  edge: OnoffEdge,
  options: OnoffOptions,
) => OnoffLine;

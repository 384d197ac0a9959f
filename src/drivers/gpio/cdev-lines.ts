/**
 * Output and input lines on the kernel's GPIO character device (uAPI v2).
 *
 * The chip is found by its label (the Pi's main controller, or `gpio.chip`)
 * and a line is addressed by its BCM number as the offset: no base
 * arithmetic. Active-low is handled once, by the kernel
 * (GPIO_V2_LINE_FLAG_ACTIVE_LOW): every value in this file is logical.
 * Outputs are requested with their inactive value in the request itself, so
 * the kernel never drives the active level on a start or restart. Inputs get
 * bias and the kernel's debounce, and their edge events are read from the
 * request's fd in the event loop, timed by the kernel's timestamp.
 */
import { readdirSync } from 'node:fs';
import type { Logger } from '../../log.js';
import type { DigitalInput, DigitalOutput } from '../types.js';
import type { Clock } from '../../types.js';
import { type CdevBinding, loadCdevBinding } from './cdev-binding.js';
import { GpioError } from './errors.js';
import { InputTransitions } from './input-transitions.js';
import { MAIN_CHIP_LABELS } from './sysfs-chip.js';

/** What the kernel shows as the consumer of our lines (`gpioinfo`, lineInfo). */
export const CONSUMER = 'gate-controller';

export interface CdevChip {
  path: string;
  label: string;
  lines: number;
}

/** Every /dev/gpiochipN the process can read, in number order; unreadable ones carry their error. */
export function listCdevChips(binding: CdevBinding, devRoot = '/dev'): Array<CdevChip | { path: string; error: Error }> {
  let names: string[];
  try {
    names = readdirSync(devRoot).filter((e) => /^gpiochip\d+$/.test(e));
  } catch {
    names = [];
  }
  names.sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
  return names.map((n) => {
    const path = `${devRoot}/${n}`;
    try {
      const info = binding.chipInfo(path);
      return { path, label: info.label, lines: info.lines };
    } catch (error) {
      return { path, error: error as Error };
    }
  });
}

function permissionHint(path: string): string {
  return `permission denied on ${path}: add the service user to the "gpio" group (usermod -aG gpio gate) and restart the service`;
}

/**
 * The chip by `gpio.chip` (a label or a /dev/gpiochipN path), else the first
 * chip whose label is one of the Pi's main controllers.
 */
export function findCdevChip(binding: CdevBinding, want: string | undefined, devRoot = '/dev'): CdevChip {
  if (want?.startsWith('/')) {
    try {
      const info = binding.chipInfo(want);
      return { path: want, label: info.label, lines: info.lines };
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      const why = code === 'EACCES' || code === 'EPERM' ? permissionHint(want) : (cause as Error).message;
      throw new GpioError(code === 'EACCES' || code === 'EPERM' ? 'GPIO_ACCESS' : 'GPIO_NO_CHIP', `gpio.chip: ${want}: ${why}`, { cause });
    }
  }
  const chips = listCdevChips(binding, devRoot);
  const readable = chips.filter((c): c is CdevChip => !('error' in c));
  const denied = chips.filter((c): c is { path: string; error: Error } => 'error' in c);
  const labels = want ? [want] : [...MAIN_CHIP_LABELS];
  for (const label of labels) {
    const hit = readable.find((c) => c.label === label);
    if (hit) return hit;
  }
  const seen = readable.map((c) => `${c.path} "${c.label}"`).join(', ') || 'none';
  const key = want ? 'gpio.chip' : 'gpio.backend';
  let msg = `${key}: no GPIO chip labeled ${labels.map((l) => `"${l}"`).join(' or ')} (chips seen: ${seen})`;
  if (denied.length) {
    const d = denied[0]!;
    const code = (d.error as NodeJS.ErrnoException).code;
    msg += code === 'EACCES' || code === 'EPERM' ? `; ${permissionHint(d.path)}` : `; ${d.path}: ${d.error.message}`;
    if (code === 'EACCES' || code === 'EPERM') throw new GpioError('GPIO_ACCESS', msg, { cause: d.error });
  }
  throw new GpioError('GPIO_NO_CHIP', msg);
}

/** Shared by the lines of one GpioSet: the binding and the chip, found once. */
export class CdevContext {
  private chip: CdevChip | undefined;

  constructor(readonly deps: { chip?: string; devRoot?: string; log: Logger; clock: Clock; binding?: CdevBinding }) {}

  get binding(): CdevBinding {
    return (this.deps.binding ??= loadCdevBinding());
  }

  /** Resolve the chip before any line is touched: a bad setup changes nothing. */
  prepare(): CdevChip {
    if (!this.chip) {
      this.chip = findCdevChip(this.binding, this.deps.chip, this.deps.devRoot);
      this.deps.log.info({ chip: this.chip.path, label: this.chip.label, lines: this.chip.lines }, 'gpio controller found');
    }
    return this.chip;
  }

  /** Request one line; every failure becomes a GpioError naming the config key and the cause. */
  request(key: string, offset: number, flags: number, initial: boolean, debounceUs: number): number {
    const chip = this.prepare();
    const where = `${key} (BCM ${offset} on ${chip.path} "${chip.label}")`;
    if (offset >= chip.lines) {
      throw new GpioError('GPIO_BAD_LINE', `${where}: the chip has lines 0-${chip.lines - 1} only`);
    }
    try {
      return this.binding.requestLine(chip.path, offset, CONSUMER, flags, initial, debounceUs);
    } catch (cause) {
      throw this.describe(where, chip, offset, cause);
    }
  }

  /** The kernel's errno as a clear message: busy names the consumer, EACCES the gpio group. */
  describe(where: string, chip: CdevChip, offset: number, cause: unknown): GpioError {
    const code = (cause as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    switch (code) {
      case 'EBUSY': {
        let holder = 'another consumer';
        try {
          const info = this.binding.lineInfo(chip.path, offset);
          holder = info.consumer ? `"${info.consumer}"` : 'a consumer that gave no name';
        } catch {
          /* the busy error stands on its own */
        }
        return new GpioError('GPIO_BUSY', `${where}: the line is in use by ${holder} (another process, a second daemon, or a kernel driver / dtoverlay); see gpioinfo`, { cause });
      }
      case 'EACCES':
      case 'EPERM':
        return new GpioError('GPIO_ACCESS', `${where}: ${permissionHint(chip.path)}`, { cause });
      case 'ENOENT':
      case 'ENODEV':
      case 'ENXIO':
        return new GpioError('GPIO_NO_CHIP', `${where}: the chip is gone (${code}): was the device removed or its driver unbound?`, { cause });
      case 'EINVAL':
        return new GpioError('GPIO_ACCESS', `${where}: the kernel rejected the request (EINVAL): a flag this chip does not support (bias, debounce)?`, { cause });
      default:
        return new GpioError('GPIO_ACCESS', `${where}: ${(cause as Error).message}`, { cause });
    }
  }
}

export class CdevOutput implements DigitalOutput {
  private fd: number | undefined;
  private value = false;

  constructor(
    readonly name: string,
    private readonly key: string,
    private readonly cfg: { line: number; activeLow: boolean },
    private readonly ctx: CdevContext,
  ) {}

  /** Requested as an output with the inactive value in the request: the line is never driven active by a start. */
  async start(): Promise<void> {
    if (this.fd !== undefined) return;
    const F = this.ctx.binding.FLAGS;
    const flags = F.OUTPUT | (this.cfg.activeLow ? F.ACTIVE_LOW : 0);
    this.fd = this.ctx.request(this.key, this.cfg.line, flags, false, 0);
    this.value = false;
  }

  set(active: boolean): void {
    if (this.fd === undefined) throw new GpioError('GPIO_NOT_STARTED', `gpio output "${this.name}" is not started`);
    try {
      this.ctx.binding.setValue(this.fd, active);
    } catch (cause) {
      const chip = this.ctx.prepare();
      throw this.ctx.describe(`${this.key} (BCM ${this.cfg.line} on ${chip.path})`, chip, this.cfg.line, cause);
    }
    this.value = active;
  }

  get(): boolean {
    return this.value;
  }

  /** Inactive, then released. What the pin does once released is the chip driver's choice (docs/gpio.md). */
  async stop(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return;
    try {
      this.set(false);
    } finally {
      this.fd = undefined;
      this.ctx.binding.close(fd);
    }
  }
}

const BIAS = { 'pull-up': 'BIAS_PULL_UP', 'pull-down': 'BIAS_PULL_DOWN', disabled: 'BIAS_DISABLED' } as const;

export class CdevInput implements DigitalInput {
  private fd: number | undefined;
  private unwatch: (() => void) | undefined;
  private readonly transitions: InputTransitions;

  constructor(
    readonly name: string,
    private readonly key: string,
    private readonly cfg: { line: number; activeLow: boolean; debounceMs: number; bias?: 'pull-up' | 'pull-down' | 'disabled' },
    private readonly ctx: CdevContext,
  ) {
    // The kernel debounces: every edge event it reports is a settled transition.
    this.transitions = new InputTransitions(name, { debounceMs: 0, clock: ctx.deps.clock, log: ctx.deps.log });
  }

  async start(): Promise<void> {
    if (this.fd !== undefined) return;
    const b = this.ctx.binding;
    const F = b.FLAGS;
    let flags = F.INPUT | F.EDGE_RISING | F.EDGE_FALLING | (this.cfg.activeLow ? F.ACTIVE_LOW : 0);
    if (this.cfg.bias) flags |= F[BIAS[this.cfg.bias]];
    const fd = this.ctx.request(this.key, this.cfg.line, flags, false, this.cfg.debounceMs * 1000);
    try {
      this.transitions.prime(b.getValue(fd));
      this.unwatch = b.watch(fd, (err) => this.onReadable(err));
    } catch (cause) {
      b.close(fd);
      const chip = this.ctx.prepare();
      throw this.ctx.describe(`${this.key} (BCM ${this.cfg.line} on ${chip.path})`, chip, this.cfg.line, cause);
    }
    this.fd = fd;
  }

  get(): boolean {
    return this.transitions.get();
  }

  onChange(listener: (active: boolean, atMs: number) => void): () => void {
    return this.transitions.onChange(listener);
  }

  async stop(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
    this.transitions.stop();
    this.ctx.binding.close(fd);
  }

  /** Events in kernel order; each one's time is the kernel's timestamp moved onto the daemon's clock. */
  private onReadable(err: string | null): void {
    const fd = this.fd;
    if (fd === undefined) return;
    const log = this.ctx.deps.log;
    if (err) {
      log.error({ line: this.name, key: this.key, err }, 'gpio input: the line request failed (chip gone?); input stopped');
      void this.stop();
      return;
    }
    let events;
    try {
      events = this.ctx.binding.readEvents(fd);
    } catch (e) {
      log.error({ line: this.name, key: this.key, err: e }, 'gpio input: reading events failed (chip gone?); input stopped');
      void this.stop();
      return;
    }
    if (!events.length) return;
    const nowNs = process.hrtime.bigint();
    const nowMs = this.ctx.deps.clock();
    for (const ev of events) {
      const ageMs = Number(nowNs - ev.timestampNs) / 1e6;
      this.transitions.settle(ev.rising, nowMs - Math.max(0, ageMs));
    }
  }
}

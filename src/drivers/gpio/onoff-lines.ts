/**
 * Output and input lines on sysfs GPIO through onoff.
 *
 * Polarity: we pass `activeLow: false` to onoff on every line and invert in
 * our own code. onoff's option writes the sysfs `active_low` file, which
 * outlives the process and interacts with the raw 'high'/'low' directions
 * (gpiolib-sysfs sets those as raw levels); keeping the kernel at
 * active-high makes the level we compute the level on the pin, on inputs
 * and outputs alike.
 */
import type { Logger } from '../../log.js';
import type { DigitalInput, DigitalOutput } from '../types.js';
import type { Clock } from '../../types.js';
import { accessError, GpioError, type LineAddress } from './errors.js';
import { InputTransitions } from './input-transitions.js';
import type { OnoffDirection, OnoffEdge, OnoffLevel, OnoffLike, OnoffLine } from './onoff-like.js';
import { findMainChip, makeLineResolver } from './sysfs-chip.js';

/** Shared by the lines of one GpioSet: finds the chip and loads onoff once. */
export class OnoffContext {
  private prepared: Promise<{ Gpio: OnoffLike; resolve: (name: string, bcm: number) => number }> | undefined;

  constructor(readonly deps: { sysfsRoot: string; log: Logger; clock: Clock; onoff?: OnoffLike }) {}

  /** Resolve the chip before any line is touched: a bad setup changes nothing. */
  prepare(): Promise<{ Gpio: OnoffLike; resolve: (name: string, bcm: number) => number }> {
    this.prepared ??= (async () => {
      const chip = findMainChip(this.deps.sysfsRoot);
      this.deps.log.info({ chip: chip.dir, label: chip.label, base: chip.base, ngpio: chip.ngpio }, 'gpio controller found');
      const Gpio = this.deps.onoff ?? (await import('./onoff-real.js')).onoffGpio;
      return { Gpio, resolve: makeLineResolver(chip) };
    })();
    this.prepared.catch(() => {
      this.prepared = undefined; // a failed setup may be retried after the fix
    });
    return this.prepared;
  }

  async open(name: string, bcm: number, direction: OnoffDirection, edge: OnoffEdge): Promise<{ gpio: OnoffLine; addr: LineAddress }> {
    const { Gpio, resolve } = await this.prepare();
    const addr = { name, bcm, sysfs: resolve(name, bcm) };
    try {
      // reconfigureDirection: false — an output already exported by the
      // previous run keeps its level instead of being reset to 0 by onoff.
      return { gpio: new Gpio(addr.sysfs, direction, edge, { activeLow: false, reconfigureDirection: false }), addr };
    } catch (cause) {
      throw accessError(addr, cause, this.deps.sysfsRoot);
    }
  }
}

const level = (active: boolean, activeLow: boolean): OnoffLevel => (active !== activeLow ? 1 : 0);

export class OnoffOutput implements DigitalOutput {
  private gpio: OnoffLine | undefined;
  private addr: LineAddress | undefined;
  private value = false;

  constructor(
    readonly name: string,
    private readonly cfg: { line: number; activeLow: boolean },
    private readonly ctx: OnoffContext,
  ) {}

  /**
   * Export with the SAFE (inactive) level as the initial direction, so a new
   * export never passes through the active level ('high' for an active-low
   * relay board), then write it again for a line the previous run left
   * exported, possibly energized.
   */
  async start(): Promise<void> {
    if (this.gpio) return;
    const safe = level(false, this.cfg.activeLow);
    const { gpio, addr } = await this.ctx.open(this.name, this.cfg.line, safe ? 'high' : 'low', 'none');
    this.gpio = gpio;
    this.addr = addr;
    this.write(false);
  }

  set(active: boolean): void {
    if (!this.gpio) throw new GpioError('GPIO_NOT_STARTED', `gpio output "${this.name}" is not started`);
    this.write(active);
  }

  get(): boolean {
    return this.value;
  }

  /** Inactive, then released. The pin keeps the inactive level after unexport. */
  async stop(): Promise<void> {
    const gpio = this.gpio;
    if (!gpio) return;
    try {
      this.write(false);
    } finally {
      this.gpio = undefined;
      gpio.unexport();
    }
  }

  private write(active: boolean): void {
    try {
      this.gpio!.writeSync(level(active, this.cfg.activeLow));
    } catch (cause) {
      throw accessError(this.addr!, cause, this.ctx.deps.sysfsRoot);
    }
    this.value = active;
  }
}

export class OnoffInput implements DigitalInput {
  private gpio: OnoffLine | undefined;
  private readonly transitions: InputTransitions;

  constructor(
    readonly name: string,
    private readonly cfg: { line: number; activeLow: boolean; debounceMs: number },
    private readonly ctx: OnoffContext,
  ) {
    this.transitions = new InputTransitions(name, { debounceMs: cfg.debounceMs, clock: ctx.deps.clock, log: ctx.deps.log });
  }

  /** Edge 'both': every wake-up is a hint; InputTransitions decides what changed. */
  async start(): Promise<void> {
    if (this.gpio) return;
    const { gpio, addr } = await this.ctx.open(this.name, this.cfg.line, 'in', 'both');
    this.gpio = gpio;
    try {
      this.transitions.prime(this.read());
    } catch (cause) {
      this.gpio = undefined;
      gpio.unexport();
      throw accessError(addr, cause, this.ctx.deps.sysfsRoot);
    }
    gpio.watch((err) => {
      if (err) {
        this.ctx.deps.log.warn({ line: this.name, err }, 'gpio input wake-up error');
        return;
      }
      if (this.gpio) this.transitions.wake(() => this.read());
    });
  }

  get(): boolean {
    return this.transitions.get();
  }

  onChange(listener: (active: boolean, atMs: number) => void): () => void {
    return this.transitions.onChange(listener);
  }

  async stop(): Promise<void> {
    const gpio = this.gpio;
    if (!gpio) return;
    this.gpio = undefined;
    this.transitions.stop();
    try {
      gpio.unwatchAll();
    } finally {
      gpio.unexport();
    }
  }

  private read(): boolean {
    if (!this.gpio) throw new GpioError('GPIO_NOT_STARTED', `gpio input "${this.name}" is not started`);
    return (this.gpio.readSync() === 1) !== this.cfg.activeLow;
  }
}

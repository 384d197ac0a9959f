/**
 * A fake sysfs GPIO controller behind the OnoffLike seam, in the spirit of
 * @serialport/binding-mock: it checks its inputs like the kernel and onoff
 * would, and records every physical level so tests can assert what a relay
 * actually did.
 *
 * Modelled behaviour (onoff 6.0.3 onoff.js, Linux gpiolib-sysfs.c):
 * - export: EACCES when not allowed, EINVAL outside [base, base+ngpio),
 *   EBUSY for a line claimed elsewhere; a freshly exported line is an input;
 * - direction 'out'/'low' drive the pin 0, 'high' drives it 1 (raw levels);
 *   onoff rewrites the direction of an already-exported line only when
 *   `reconfigureDirection` is true or the direction differs;
 * - writing `value` of an input is EPERM; anything on an unexported line is
 *   EBADF (onoff's fd is gone);
 * - onoff's `activeLow` option inverts value reads and writes (active_low).
 */
import type { OnoffDirection, OnoffEdge, OnoffLevel, OnoffLike, OnoffLine, OnoffOptions, OnoffWatcher } from './onoff-like.js';

export interface FakeChipOptions {
  base: number;
  ngpio: number;
  /** false: writing `export` fails with EACCES (user not in the gpio group). */
  exportAllowed?: boolean;
  /** sysfs numbers claimed by a kernel driver: export fails with EBUSY. */
  busy?: number[];
}

export type FakeRecord =
  | { op: 'export' | 'unexport'; sysfs: number }
  /** The physical pin level after a direction or value write. */
  | { op: 'level'; sysfs: number; level: OnoffLevel; via: 'direction' | 'write' };

interface LineState {
  direction: 'in' | 'out';
  edge: OnoffEdge;
  activeLow: boolean;
  watchers: OnoffWatcher[];
}

function errno(code: string, what: string): NodeJS.ErrnoException {
  const err = new Error(`${code}: ${what}`) as NodeJS.ErrnoException;
  err.code = code;
  return err;
}

export class FakeGpioChip {
  /** Every export, unexport and physical level change, in order. */
  readonly recording: FakeRecord[] = [];
  /** The class to inject as `deps.onoff`. */
  readonly Gpio: OnoffLike;
  private readonly exported = new Map<number, LineState>();
  /** Physical level of every pin, exported or not (external drive or last output). */
  private readonly pins = new Map<number, OnoffLevel>();

  constructor(readonly opts: FakeChipOptions) {
    const chip = this;
    this.Gpio = class FakeGpio implements OnoffLine {
      constructor(gpio: number, direction: OnoffDirection, edge: OnoffEdge, options: OnoffOptions) {
        chip.open(gpio, direction, edge, options ?? {});
        this.gpio = gpio;
      }
      private readonly gpio: number;
      readSync(): OnoffLevel {
        return chip.read(this.gpio);
      }
      writeSync(value: OnoffLevel): void {
        chip.write(this.gpio, value);
      }
      watch(callback: OnoffWatcher): void {
        chip.state(this.gpio).watchers.push(callback);
      }
      unwatchAll(): void {
        chip.state(this.gpio).watchers = [];
      }
      unexport(): void {
        chip.state(this.gpio);
        chip.exported.delete(this.gpio);
        chip.recording.push({ op: 'unexport', sysfs: this.gpio });
      }
    };
  }

  /** Leave a line exported as a previous process would (e.g. killed mid-pulse). */
  preExport(sysfs: number, direction: 'in' | 'out', level: OnoffLevel): void {
    this.exported.set(sysfs, { direction, edge: 'none', activeLow: false, watchers: [] });
    this.pins.set(sysfs, level);
  }

  isExported(sysfs: number): boolean {
    return this.exported.has(sysfs);
  }

  /** Physical level of a pin (0 when never driven). */
  level(sysfs: number): OnoffLevel {
    return this.pins.get(sysfs) ?? 0;
  }

  /** Physical levels written to one pin, in order. */
  levels(sysfs: number): OnoffLevel[] {
    return this.recording.flatMap((r) => (r.op === 'level' && r.sysfs === sysfs ? [r.level] : []));
  }

  /**
   * An external signal on an input pin. Like the kernel, watchers run only
   * when the level changed and the edge setting matches; like onoff, they
   * get the value read at delivery time.
   */
  drive(sysfs: number, level: OnoffLevel): void {
    const st = this.exported.get(sysfs);
    if (st?.direction === 'out') throw new Error(`fake: driving output pin ${sysfs} would short it`);
    const before = this.level(sysfs);
    this.pins.set(sysfs, level);
    if (!st || before === level) return;
    const edgeHit = st.edge === 'both' || (st.edge === 'rising' && level === 1) || (st.edge === 'falling' && level === 0);
    if (edgeHit) this.deliver(sysfs, st);
  }

  /** A wake-up with no level change: what a merged or dropped pulse looks like (fivdi/onoff#191). */
  interrupt(sysfs: number): void {
    this.deliver(sysfs, this.state(sysfs));
  }

  private deliver(sysfs: number, st: LineState): void {
    const value = this.read(sysfs);
    for (const w of st.watchers.slice()) w(null, value);
  }

  private state(sysfs: number): LineState {
    const st = this.exported.get(sysfs);
    if (!st) throw errno('EBADF', `gpio${sysfs} is not exported`);
    return st;
  }

  private open(gpio: number, direction: OnoffDirection, edge: OnoffEdge, options: OnoffOptions): void {
    let st = this.exported.get(gpio);
    if (!st) {
      if (this.opts.exportAllowed === false) throw errno('EACCES', 'permission denied, open /sys/class/gpio/export');
      if (!Number.isInteger(gpio) || gpio < this.opts.base || gpio >= this.opts.base + this.opts.ngpio) {
        throw errno('EINVAL', `invalid argument, write ${gpio} to /sys/class/gpio/export`);
      }
      if (this.opts.busy?.includes(gpio)) throw errno('EBUSY', `resource busy, write ${gpio} to /sys/class/gpio/export`);
      st = { direction: 'in', edge: 'none', activeLow: false, watchers: [] };
      this.exported.set(gpio, st);
      this.recording.push({ op: 'export', sysfs: gpio });
    }
    if (typeof options.activeLow === 'boolean') st.activeLow = options.activeLow;
    const requested = direction === 'high' || direction === 'low' ? 'out' : direction;
    const reconfigure = options.reconfigureDirection ?? true;
    if (reconfigure || st.direction !== requested) {
      st.direction = requested;
      if (requested === 'out') this.setLevel(gpio, direction === 'high' ? 1 : 0, 'direction');
    }
    if (edge && direction === 'in') st.edge = edge;
  }

  private read(gpio: number): OnoffLevel {
    const st = this.state(gpio);
    return (this.level(gpio) ^ (st.activeLow ? 1 : 0)) as OnoffLevel;
  }

  private write(gpio: number, value: OnoffLevel): void {
    const st = this.state(gpio);
    if (st.direction !== 'out') throw errno('EPERM', `operation not permitted, write gpio${gpio}/value of an input`);
    if (value !== 0 && value !== 1) throw errno('EINVAL', `invalid value ${String(value)}`);
    this.setLevel(gpio, (value ^ (st.activeLow ? 1 : 0)) as OnoffLevel, 'write');
  }

  private setLevel(gpio: number, level: OnoffLevel, via: 'direction' | 'write'): void {
    this.pins.set(gpio, level);
    this.recording.push({ op: 'level', sysfs: gpio, level, via });
  }
}

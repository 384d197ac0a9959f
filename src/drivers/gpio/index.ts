/**
 * The gate's GPIO as one set: relays, LEDs and buzzer out; passage, door,
 * exit button, fire alarm and tamper in. `start()` drives every relay to its
 * safe (inactive) state before any other line is touched; `stop()` leaves
 * every output inactive and releases every line.
 *
 * Backends: `cdev` (the kernel's GPIO character device, uAPI v2, through
 * our own addon in native/gpio-cdev), `onoff` (sysfs GPIO, kept for older
 * systems) and `sim`. `auto` picks cdev where /dev/gpiochip* exists, else
 * onoff where sysfs GPIO does.
 */
import { existsSync, readdirSync } from 'node:fs';
import type { GpioConfig, InputConfig } from '../../config.js';
import type { Logger } from '../../log.js';
import type { DigitalInput, DigitalOutput, GpioBackend, GpioSet, InputName, OutputName } from '../types.js';
import type { Clock } from '../../types.js';
import type { OnoffLike } from './onoff-like.js';
import type { CdevBinding } from './cdev-binding.js';
import { CdevContext, CdevInput, CdevOutput } from './cdev-lines.js';
import { OnoffContext, OnoffInput, OnoffOutput } from './onoff-lines.js';
import { SimInput, SimOutput } from './sim-lines.js';
import { TraceFile } from './trace-file.js';

import { GpioError } from './errors.js';

export { GpioError, type GpioErrorCode } from './errors.js';
export { CONSUMER as CDEV_CONSUMER, findCdevChip, listCdevChips } from './cdev-lines.js';
export { loadCdevBinding, type CdevBinding } from './cdev-binding.js';
export { FakeGpioChip } from './fake-onoff.js';
export type { OnoffLike, OnoffLine } from './onoff-like.js';
export { SimInput, SimOutput } from './sim-lines.js';
export { findMainChip, listChips, MAIN_CHIP_LABELS } from './sysfs-chip.js';

export type { GpioBackend, GpioSet, InputName, OutputName } from '../types.js';

export interface GpioDeps {
  log: Logger;
  clock?: Clock;
  /** The onoff Gpio class, injected by tests (FakeGpioChip.Gpio); default: the real one. */
  onoff?: OnoffLike;
  /** The cdev addon, injected by tests; default: native/gpio-cdev. */
  cdev?: CdevBinding;
  /** Where gpiochipN devices live (default /dev). */
  devRoot?: string;
}

/** `auto`: the character device where the kernel offers one, else sysfs GPIO where it exists. */
export function resolveBackend(cfg: Pick<GpioConfig, 'backend' | 'sysfsRoot'>, devRoot = '/dev'): GpioBackend {
  if (cfg.backend !== 'auto') return cfg.backend;
  let chips: string[] = [];
  try {
    chips = readdirSync(devRoot).filter((e) => /^gpiochip\d+$/.test(e));
  } catch {
    /* no /dev: fall through */
  }
  if (chips.length) return 'cdev';
  if (existsSync(cfg.sysfsRoot)) return 'onoff';
  throw new GpioError('GPIO_NO_CHIP', `gpio.backend: auto found neither ${devRoot}/gpiochip* nor ${cfg.sysfsRoot}: is this a Raspberry Pi with GPIO enabled?`);
}

export function buildGpio(cfg: GpioConfig, deps: GpioDeps): GpioSet {
  const backend = resolveBackend(cfg, deps.devRoot);
  const log = deps.log.child({ backend });
  const biased = Object.entries(cfg.inputs).filter(([, v]) => v?.bias).map(([k]) => `gpio.inputs.${k}.bias`);
  if (backend === 'onoff' && biased.length) {
    log.warn({ keys: biased }, 'bias is set by the cdev backend only: sysfs GPIO cannot; set the pulls in config.txt (gpio=N=ip,pu|pd)');
  }
  const clock = deps.clock ?? Date.now;
  const trace = backend === 'sim' && cfg.trace ? new TraceFile(cfg.trace) : undefined;
  const ctx = new OnoffContext({ sysfsRoot: cfg.sysfsRoot, log, clock, onoff: deps.onoff });
  const cdev = new CdevContext({ chip: cfg.chip, devRoot: deps.devRoot, log, clock, binding: deps.cdev });

  const output = (name: OutputName, key: string, line?: { line: number; activeLow: boolean }): DigitalOutput | undefined => {
    if (!line) return undefined;
    if (backend === 'sim') return new SimOutput(name, { clock, trace });
    return backend === 'cdev' ? new CdevOutput(name, key, line, cdev) : new OnoffOutput(name, line, ctx);
  };
  const input = (name: InputName, line?: InputConfig): DigitalInput | undefined => {
    if (!line) return undefined;
    if (backend === 'sim') return new SimInput(name, { clock, log });
    return backend === 'cdev' ? new CdevInput(name, `gpio.inputs.${name}`, line, cdev) : new OnoffInput(name, line, ctx);
  };

  const relays = {
    entry: output('entry', 'gpio.relays.entry', cfg.relays.entry),
    exit: output('exit', 'gpio.relays.exit', cfg.relays.exit),
  };
  const indicators = {
    green: output('green', 'gpio.leds.green', cfg.leds.green),
    red: output('red', 'gpio.leds.red', cfg.leds.red),
    buzzer: output('buzzer', 'gpio.buzzer', cfg.buzzer),
  };
  const inputs = {
    passage: input('passage', cfg.inputs.passage),
    door: input('door', cfg.inputs.door),
    exitButton: input('exitButton', cfg.inputs.exitButton),
    fireAlarm: input('fireAlarm', cfg.inputs.fireAlarm),
    tamper: input('tamper', cfg.inputs.tamper),
  };
  const present = <T>(o: Record<string, T | undefined>): T[] => Object.values(o).filter((v): v is T => v !== undefined);
  // Start order is the safety order; stop runs it in reverse.
  const order = [...present(relays), ...present(indicators), ...present<DigitalInput>(inputs)];
  const started: Array<DigitalOutput | DigitalInput> = [];

  const stopStarted = async (): Promise<void> => {
    while (started.length) {
      const line = started.pop()!;
      try {
        await line.stop();
      } catch (err) {
        log.error({ line: line.name, err }, 'gpio line stop failed');
      }
    }
    trace?.close();
  };

  return {
    backend,
    outputs: stripUndefined({ ...relays, ...indicators }),
    inputs: stripUndefined(inputs),
    async start() {
      if (started.length) return; // already running
      trace?.open();
      if (backend === 'onoff') await ctx.prepare(); // chip and onoff before any line
      if (backend === 'cdev') cdev.prepare();
      try {
        for (const line of order) {
          await line.start();
          started.push(line);
        }
      } catch (err) {
        await stopStarted();
        throw err;
      }
      log.info({ outputs: order.length - present(inputs).length, inputs: present(inputs).length }, 'gpio started, relays safe');
    },
    async stop() {
      await stopStarted();
    },
  };
}

function stripUndefined<K extends string, T>(o: Record<K, T | undefined>): Partial<Record<K, T>> {
  const out: Partial<Record<K, T>> = {};
  for (const [k, v] of Object.entries(o) as Array<[K, T | undefined]>) if (v !== undefined) out[k] = v;
  return out;
}

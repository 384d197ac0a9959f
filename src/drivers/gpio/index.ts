/**
 * The gate's GPIO as one set: relays, LEDs and buzzer out; passage, door,
 * exit button, fire alarm and tamper in. `start()` drives every relay to its
 * safe (inactive) state before any other line is touched; `stop()` leaves
 * every output inactive and releases every line.
 *
 * Backends: `onoff` (sysfs GPIO on the Pi) and `sim`. sysfs GPIO is
 * deprecated upstream; a character-device backend would be a third factory
 * here, nothing above this file would change.
 */
import type { GpioConfig } from '../../config.js';
import type { Logger } from '../../log.js';
import type { DigitalInput, DigitalOutput, GpioSet, InputName, OutputName } from '../types.js';
import type { Clock } from '../../types.js';
import type { OnoffLike } from './onoff-like.js';
import { OnoffContext, OnoffInput, OnoffOutput } from './onoff-lines.js';
import { SimInput, SimOutput } from './sim-lines.js';
import { TraceFile } from './trace-file.js';

export { GpioError, type GpioErrorCode } from './errors.js';
export { FakeGpioChip } from './fake-onoff.js';
export type { OnoffLike, OnoffLine } from './onoff-like.js';
export { SimInput, SimOutput } from './sim-lines.js';
export { findMainChip, listChips, MAIN_CHIP_LABELS } from './sysfs-chip.js';

export interface GpioDeps {
  log: Logger;
  clock?: Clock;
  /** The onoff Gpio class, injected by tests (FakeGpioChip.Gpio); default: the real one. */
  onoff?: OnoffLike;
}

export function buildGpio(cfg: GpioConfig, deps: GpioDeps): GpioSet {
  const log = deps.log.child({ backend: cfg.backend });
  const clock = deps.clock ?? Date.now;
  const trace = cfg.backend === 'sim' && cfg.trace ? new TraceFile(cfg.trace) : undefined;
  const ctx = new OnoffContext({ sysfsRoot: cfg.sysfsRoot, log, clock, onoff: deps.onoff });

  const output = (name: OutputName, line?: { line: number; activeLow: boolean }): DigitalOutput | undefined => {
    if (!line) return undefined;
    return cfg.backend === 'sim' ? new SimOutput(name, { clock, trace }) : new OnoffOutput(name, line, ctx);
  };
  const input = (name: InputName, line?: { line: number; activeLow: boolean; debounceMs: number }): DigitalInput | undefined => {
    if (!line) return undefined;
    return cfg.backend === 'sim' ? new SimInput(name, { clock, log }) : new OnoffInput(name, line, ctx);
  };

  const relays = { entry: output('entry', cfg.relays.entry), exit: output('exit', cfg.relays.exit) };
  const indicators = {
    green: output('green', cfg.leds.green),
    red: output('red', cfg.leds.red),
    buzzer: output('buzzer', cfg.buzzer),
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
    outputs: stripUndefined({ ...relays, ...indicators }),
    inputs: stripUndefined(inputs),
    async start() {
      if (started.length) return; // already running
      trace?.open();
      if (cfg.backend === 'onoff') await ctx.prepare(); // chip and onoff before any line
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

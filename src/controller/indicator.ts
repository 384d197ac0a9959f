/**
 * LED and buzzer patterns people at the gate read without a screen.
 *
 * Patterns are data: a list of steps, each the state of the three outputs
 * held for `ms`. Every pattern and every mode background is distinct, so a
 * guard can tell "granted" from "escort waiting" from "emergency" by eye and
 * ear alone. A foreground pattern (`show`) plays over the mode background
 * (`setMode`) and the background comes back when it ends.
 */
import type { DigitalOutput } from '../drivers/types.js';
import type { GateMode } from './reasons.js';

export type IndicatorPattern = 'granted' | 'denied' | 'alert' | 'escortWait' | 'readerFault';

export interface IndicatorStep {
  green: boolean;
  red: boolean;
  buzzer: boolean;
  ms: number;
}

export interface IndicatorOutputs {
  green?: DigitalOutput;
  red?: DigitalOutput;
  buzzer?: DigitalOutput;
}

const step = (lit: string, ms: number): IndicatorStep => ({
  green: lit.includes('G'),
  red: lit.includes('R'),
  buzzer: lit.includes('B'),
  ms,
});
const repeat = (times: number, steps: IndicatorStep[]): IndicatorStep[] =>
  Array.from({ length: times }, () => steps).flat();

/** Foreground patterns, played once (or repeated for a while, see `show`). The last step is followed by the background. */
export const PATTERNS: Readonly<Record<IndicatorPattern, readonly IndicatorStep[]>> = {
  /** Green for 1.5 s with one short chirp. */
  granted: [step('GB', 100), step('G', 1400)],
  /** Red for 1 s with one long low beep. */
  denied: [step('RB', 500), step('R', 500)],
  /** Blacklist hit: fast red flashes with the buzzer, 3 s. */
  alert: repeat(10, [step('RB', 150), step('', 150)]),
  /** Escorted visitor waiting: green and red alternating, silent. */
  escortWait: repeat(2, [step('G', 500), step('R', 500)]),
  /** A reader went away: two short red blinks with chirps, then a pause. */
  readerFault: [step('RB', 100), step('', 100), step('RB', 100), step('', 700)],
};

/** Mode backgrounds, looped while no pattern plays. A single step is a steady state. */
export const BACKGROUNDS: Readonly<Record<GateMode, readonly IndicatorStep[]>> = {
  normal: [step('', 0)],
  /** Lockdown: red steady. */
  lockdown: [step('R', 0)],
  /** Emergency: green steady, the buzzer beeping every 2 s. */
  emergency: [step('GB', 250), step('G', 1750)],
};

export interface ShowOptions {
  /** Repeat the pattern until at least this long has passed (e.g. the escort window). */
  repeatForMs?: number;
}

export class Indicator {
  readonly #outputs: IndicatorOutputs;
  #mode: GateMode = 'normal';
  #pattern: IndicatorPattern | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(outputs: IndicatorOutputs) {
    this.#outputs = outputs;
  }

  /** The foreground pattern playing now, if any. */
  get pattern(): IndicatorPattern | undefined {
    return this.#pattern;
  }

  get mode(): GateMode {
    return this.#mode;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    this.#playBackground();
  }

  /** Play a pattern now, cancelling whatever was playing; the background follows. */
  show(pattern: IndicatorPattern, opts: ShowOptions = {}): void {
    if (this.#stopped) return;
    const steps = PATTERNS[pattern];
    const cycleMs = steps.reduce((sum, s) => sum + s.ms, 0);
    const cycles = opts.repeatForMs ? Math.max(1, Math.ceil(opts.repeatForMs / cycleMs)) : 1;
    this.#pattern = pattern;
    this.#play(cycles === 1 ? steps : repeat(cycles, [...steps]), 0, false);
  }

  /** Change the background at once: a mode change outranks a pattern still playing. */
  setMode(mode: GateMode): void {
    this.#mode = mode;
    if (!this.#stopped) this.#playBackground();
  }

  /** Everything off, no timer left. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel();
    this.#pattern = undefined;
    this.#write(step('', 0));
  }

  #playBackground(): void {
    this.#pattern = undefined;
    this.#play(BACKGROUNDS[this.#mode], 0, true);
  }

  #play(steps: readonly IndicatorStep[], index: number, loop: boolean): void {
    this.#cancel();
    const current = steps[index];
    if (!current) {
      if (loop && steps.length > 0) this.#play(steps, 0, true);
      else this.#playBackground();
      return;
    }
    this.#write(current);
    // A steady background (one step) needs no timer.
    if (loop && steps.length === 1) return;
    this.#timer = setTimeout(() => this.#play(steps, index + 1, loop), current.ms);
  }

  #cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Write only the lines that change: fewer GPIO writes, and a steady LED never flickers. */
  #write(s: IndicatorStep): void {
    const { green, red, buzzer } = this.#outputs;
    if (green && green.get() !== s.green) green.set(s.green);
    if (red && red.get() !== s.red) red.set(s.red);
    if (buzzer && buzzer.get() !== s.buzzer) buzzer.set(s.buzzer);
  }
}

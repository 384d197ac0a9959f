/**
 * A DigitalOutput fake for the GPIO seam: records every write with the time
 * the injected clock reads, like a logic analyser on the line.
 */
import type { DigitalOutput } from '../../../src/drivers/types.js';
import type { Clock } from '../../../src/types.js';

export interface OutputWrite {
  name: string;
  active: boolean;
  atMs: number;
}

export class RecordingOutput implements DigitalOutput {
  readonly writes: OutputWrite[] = [];
  #value = false;
  #started = false;

  /** `log` lets several outputs share one timeline. */
  constructor(
    readonly name: string,
    private readonly clock: Clock = () => Date.now(),
    private readonly log: OutputWrite[] = [],
  ) {}

  async start(): Promise<void> {
    this.#started = true;
  }

  async stop(): Promise<void> {
    this.#started = false;
  }

  get started(): boolean {
    return this.#started;
  }

  set(active: boolean): void {
    if (typeof active !== 'boolean') throw new TypeError(`${this.name}: set() needs a boolean`);
    this.#value = active;
    const w = { name: this.name, active, atMs: this.clock() };
    this.writes.push(w);
    this.log.push(w);
  }

  get(): boolean {
    return this.#value;
  }
}

/** Several outputs writing to one shared, time-ordered log. */
export function recordingOutputs<N extends string>(names: readonly N[], clock?: Clock): {
  outputs: Record<N, RecordingOutput>;
  log: OutputWrite[];
} {
  const log: OutputWrite[] = [];
  const outputs = Object.fromEntries(names.map((n) => [n, new RecordingOutput(n, clock, log)])) as Record<
    N,
    RecordingOutput
  >;
  return { outputs, log };
}

/**
 * Simulated lines: the `sim` backend of the simulation profile, the crash
 * test and the benches. Outputs keep their state (and append it to the trace
 * file when one is configured); inputs are driven by `inject()`.
 */
import type { Logger } from '../../log.js';
import type { DigitalInput, DigitalOutput } from '../types.js';
import type { Clock } from '../../types.js';
import { InputTransitions } from './input-transitions.js';
import type { TraceFile } from './trace-file.js';

export class SimOutput implements DigitalOutput {
  private value = false;
  private started = false;

  constructor(
    readonly name: string,
    private readonly deps: { clock: Clock; trace?: TraceFile },
  ) {}

  /** The safe state is written (and traced) on every start, like the real line. */
  async start(): Promise<void> {
    this.started = true;
    this.write(false);
  }

  /** Traces changes only: a repeated set() is not a pin change. */
  set(active: boolean): void {
    if (active !== this.value) this.write(active);
  }

  get(): boolean {
    return this.value;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.write(false);
  }

  private write(active: boolean): void {
    this.value = active;
    this.deps.trace?.append({ t: this.deps.clock(), line: this.name, active });
  }
}

export class SimInput implements DigitalInput {
  private readonly transitions: InputTransitions;

  constructor(
    readonly name: string,
    private readonly deps: { clock: Clock; log: Logger },
  ) {
    // A simulated signal is clean: no debounce, an injected change is at once a transition.
    this.transitions = new InputTransitions(name, { debounceMs: 0, clock: deps.clock, log: deps.log });
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  get(): boolean {
    return this.transitions.get();
  }

  onChange(listener: (active: boolean, atMs: number) => void): () => void {
    return this.transitions.onChange(listener);
  }

  /** Drive the simulated line; listeners hear only real transitions. */
  inject(active: boolean): void {
    this.transitions.settle(active, this.deps.clock());
  }
}

/** A DigitalInput fake for the GPIO seam: tests drive it like a wire. */
import type { DigitalInput } from '../../../src/drivers/types.js';

export class FakeInput implements DigitalInput {
  #value = false;
  readonly #listeners = new Set<(active: boolean, atMs: number) => void>();

  constructor(readonly name: string) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  get(): boolean {
    return this.#value;
  }
  onChange(listener: (active: boolean, atMs: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  /** Drive the line; only a real transition reaches listeners, like a debounced input. */
  drive(active: boolean, atMs = Date.now()): void {
    if (active === this.#value) return;
    this.#value = active;
    for (const l of this.#listeners) l(active, atMs);
  }
}

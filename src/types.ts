/**
 * Types every layer may use: no layer owns them, so none has to import
 * another layer for them (DESIGN.md, "Layers").
 */

/** Every component: started in order by main.ts, stopped in reverse. */
export interface Lifecycle {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Milliseconds since the epoch; injected so tests control time. */
export type Clock = () => number;

/** Which way a reader, a passage or an opening goes. */
export type Direction = 'in' | 'out';

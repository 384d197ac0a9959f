/**
 * The native binding over the kernel's GPIO character device (uAPI v2), built
 * by node-gyp from native/gpio-cdev during `npm ci`. Loaded lazily: only the
 * cdev backend needs it, so a machine without a compiler can still run sim.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CdevEvent {
  /** Inactive → active (the kernel applies active-low before it reports). */
  rising: boolean;
  /** CLOCK_MONOTONIC, the clock of process.hrtime. */
  timestampNs: bigint;
  seqno: number;
  lineSeqno: number;
}

export interface CdevBinding {
  chipInfo(path: string): { name: string; label: string; lines: number };
  lineInfo(path: string, offset: number): { offset: number; name: string; consumer: string; flags: number };
  /** One line; returns the request's fd (non-blocking). An output's initial value is part of the request. */
  requestLine(path: string, offset: number, consumer: string, flags: number, initialValue: boolean, debounceUs: number): number;
  setValue(fd: number, value: boolean): void;
  getValue(fd: number): boolean;
  readEvents(fd: number): CdevEvent[];
  close(fd: number): void;
  /** A uv_poll_t on the fd in the event loop; the callback gets null when events are readable, else an error name. */
  watch(fd: number, onReadable: (err: string | null) => void): () => void;
  FLAGS: Record<
    | 'USED'
    | 'ACTIVE_LOW'
    | 'INPUT'
    | 'OUTPUT'
    | 'EDGE_RISING'
    | 'EDGE_FALLING'
    | 'OPEN_DRAIN'
    | 'OPEN_SOURCE'
    | 'BIAS_PULL_UP'
    | 'BIAS_PULL_DOWN'
    | 'BIAS_DISABLED',
    number
  >;
}

const ADDON = join('native', 'gpio-cdev', 'build', 'Release', 'gpio_cdev.node');
let loaded: CdevBinding | undefined;

/** The package root holds native/gpio-cdev: found upward from this file (src/ under vitest, dist/src/ when built). */
export function loadCdevBinding(): CdevBinding {
  if (loaded) return loaded;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) {
      loaded = createRequire(import.meta.url)(candidate) as CdevBinding;
      return loaded;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`the GPIO character-device addon (${ADDON}) is not built: run \`npm ci\` (needs build-essential and linux-libc-dev)`);
}

/**
 * Background worker threads (chunk checks, WAL checkpoints, journal
 * searches) run at a lower priority than the gate's own thread. On Linux a
 * nice value belongs to a thread, not the process, so setPriority() inside a
 * worker lowers that worker alone: on a 2-core Pi the thread deciding taps is
 * not the one left waiting for a core.
 */
import { setPriority } from 'node:os';

export const BACKGROUND_NICE = 10;

/** Call from inside a worker thread. Not permitted or not Linux: it stays at normal priority. */
export function lowerThisThread(): void {
  try {
    setPriority(BACKGROUND_NICE);
  } catch {
    // runs at normal priority
  }
}

/**
 * The Node/V8 options the daemon runs with: in the systemd unit's ExecStart,
 * `npm start`, scripts/install-pi.sh's drop-in and the benches (a test keeps
 * them equal). Each changes how V8's garbage collector shares the Pi's cores
 * with the thread that decides taps; bench/sync measured both on a 2-core
 * machine during a 1M-credential whitelist snapshot (README, "Performance").
 *
 * --v8-pool-size=1        One V8 background thread instead of one per core.
 *                         With four, concurrent marking and sweeping kept both
 *                         cores busy at normal priority and the gate's thread
 *                         waited up to 18 ms for a core inside one decision.
 * --max-semi-space-size=8 An 8 MB young generation (16 MB by default). With
 *                         the default, the chunk fetch ran a full
 *                         mark-compact about every 250 ms (about 40 in a 1M
 *                         fetch); with 8 MB, none, scavenges stay short, and
 *                         the heap is smaller, not larger.
 */
export const NODE_FLAGS: readonly string[] = ['--v8-pool-size=1', '--max-semi-space-size=8'];

/** Those of NODE_FLAGS this process was not started with (command line or NODE_OPTIONS). */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)]);
  return NODE_FLAGS.filter((f) => !given.has(f));
}

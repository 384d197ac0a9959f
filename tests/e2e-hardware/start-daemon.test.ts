/**
 * bench/lib/daemon.ts, the spawn helper the end-to-end tests, the benches and
 * the crash campaign share: every path is bounded and says why it failed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDaemon } from '../../bench/lib/daemon.js';
import { makeGate, type GateFixture } from './gate-fixture.js';

const gates: GateFixture[] = [];
afterAll(() => gates.forEach((g) => g.cleanup()));

function gate(): GateFixture {
  const g = makeGate({ cards: ['04A1B2C3'], readers: [] });
  gates.push(g);
  return g;
}

describe('startDaemon', () => {
  it('ready resolves with the ms to the "ready" line; stop() exits 0 and leaves the relay off', async () => {
    const g = gate();
    const d = startDaemon({ configPath: g.configPath });
    const ms = await d.ready;
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(20_000);
    expect(await d.stop()).toBe(0);
    expect(d.output()).toContain('"msg":"stopped"');
    expect(g.trace().filter((r) => r.line === 'entry').map((r) => r.active)).toEqual([false, false]);
  });

  it('a daemon that exits before ready rejects at once with its exit code and message', async () => {
    const g = gate();
    const bad = join(g.dir, 'bad.yaml');
    writeFileSync(bad, 'gate: { id: x }\n');
    const d = startDaemon({ configPath: bad });
    await expect(d.ready).rejects.toThrow(/exited \(78\) before ready[\s\S]*gate\.site/);
  });

  it('not ready in time: rejects and the child is SIGKILLed; kill() is bounded and idempotent', async () => {
    const g = gate();
    const d = startDaemon({ configPath: g.configPath, readyTimeoutMs: 1 });
    await expect(d.ready).rejects.toThrow(/not ready within 1 ms/);
    await d.kill();
    expect(d.child.signalCode).toBe('SIGKILL');
    await d.kill();
    expect(await d.stop()).toBeNull();
  });
});

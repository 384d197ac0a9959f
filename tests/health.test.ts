import { describe, expect, it } from 'vitest';
import { Health } from '../src/daemon/health.js';

describe('Health (watchdog)', () => {
  it('stays healthy while a reader reconnects within its grace period, not after', () => {
    const now = { ms: 0 };
    const h = new Health({ clock: () => now.ms, readerGraceMs: 300_000, maxLoopDelayMs: 5_000 });
    h.start([{ id: 'entry', type: 'pcsc', direction: 'in', connected: true }]);
    expect(h.check().healthy).toBe(true);
    h.reader({ id: 'entry', type: 'pcsc', direction: 'in', connected: false });
    now.ms = 299_000;
    expect(h.check().healthy).toBe(true);
    now.ms = 301_000;
    expect(h.check()).toEqual({ healthy: false, why: 'reader entry disconnected for 301 s' });
    h.reader({ id: 'entry', type: 'pcsc', direction: 'in', connected: true });
    expect(h.check().healthy).toBe(true);
    h.stop();
  });

  it('counts a reader that starts disconnected from the start', () => {
    const now = { ms: 1_000 };
    const h = new Health({ clock: () => now.ms, readerGraceMs: 10_000, maxLoopDelayMs: 5_000 });
    h.start([{ id: 'qr', type: 'serial', direction: 'out', connected: false }]);
    now.ms = 12_000;
    expect(h.check().healthy).toBe(false);
    h.stop();
  });

  it('reports a blocked event loop', async () => {
    const h = new Health({ clock: Date.now, readerGraceMs: 10_000, maxLoopDelayMs: 50 });
    h.start([]);
    await new Promise((r) => setTimeout(r, 50));
    const until = Date.now() + 200;
    while (Date.now() < until) {
      // block the loop on purpose
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(h.check()).toMatchObject({ healthy: false });
    h.stop();
  });
});

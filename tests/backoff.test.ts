/** src/backoff.ts: the one reconnect back-off of the readers and the MQTT link. */
import { describe, expect, it } from 'vitest';
import { Backoff, jittered } from '../src/backoff.js';

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap, counts attempts, and starts over after reset', () => {
    const b = new Backoff({ initialMs: 500, maxMs: 3_000 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([500, 1_000, 2_000, 3_000, 3_000]);
    expect(b.attempts).toBe(5);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(500);
  });

  it('jittered spreads a delay over ±fraction (the MQTT link uses 25%)', () => {
    expect(jittered(1_000, 0.25, () => 0)).toBe(750);
    expect(jittered(1_000, 0.25, () => 0.5)).toBe(1_000);
    expect(jittered(1_000, 0.25, () => 0.999999)).toBe(1_250);
    for (let i = 0; i < 1_000; i++) {
      const d = jittered(30_000, 0.25);
      expect(d).toBeGreaterThanOrEqual(22_500);
      expect(d).toBeLessThanOrEqual(37_500);
    }
  });
});

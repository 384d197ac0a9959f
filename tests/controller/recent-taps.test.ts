import { describe, expect, it } from 'vitest';
import { RecentTaps } from '../../src/controller/recent-taps.js';

describe('RecentTaps', () => {
  it('remembers a tap for the window and forgets older ones as new taps come', () => {
    const taps = new RecentTaps(3_000);
    for (let i = 0; i < 10_000; i++) taps.note(`card:${i}`, { atMs: i * 1_000, readerId: 'entry' });
    // One window of taps (3 s at one a second), not 10,000.
    expect(taps.size).toBe(3);
    expect(taps.get('card:9999')).toEqual({ atMs: 9_999_000, readerId: 'entry' });
    expect(taps.get('card:9996')).toBeUndefined();
  });

  it('a repeated key moves to the newest place, so it is not dropped early', () => {
    const taps = new RecentTaps(3_000);
    taps.note('a', { atMs: 0, readerId: 'entry' });
    taps.note('b', { atMs: 1_000, readerId: 'entry' });
    taps.note('a', { atMs: 2_000, readerId: 'exit' });
    taps.note('c', { atMs: 4_500, readerId: 'entry' });
    expect(taps.get('b')).toBeUndefined();
    expect(taps.get('a')).toEqual({ atMs: 2_000, readerId: 'exit' });
    expect(taps.size).toBe(2);
  });

  it('keeps nothing when duplicate suppression is off', () => {
    const taps = new RecentTaps(0);
    taps.note('a', { atMs: 0, readerId: 'entry' });
    expect(taps.size).toBe(0);
  });
});

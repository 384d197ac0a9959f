import { afterEach, describe, expect, it } from 'vitest';
import { formatTs, parseTs } from '../../src/store/time.js';

const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

// 2026-11-23T02:49:46.123Z
const MS = Date.UTC(2026, 10, 23, 2, 49, 46, 123);

describe('formatTs', () => {
  it('local time with milliseconds and the +08:00 offset', () => {
    process.env.TZ = 'Asia/Shanghai';
    expect(formatTs(MS)).toBe('2026-11-23T10:49:46.123+08:00');
  });

  it('UTC is written +00:00, never Z', () => {
    process.env.TZ = 'UTC';
    expect(formatTs(MS)).toBe('2026-11-23T02:49:46.123+00:00');
  });

  it('negative and half-hour offsets, date rolling back a day', () => {
    process.env.TZ = 'America/St_Johns'; // -03:30 in November
    expect(formatTs(MS)).toBe('2026-11-22T23:19:46.123-03:30');
  });

  it('pads small milliseconds and follows daylight saving', () => {
    process.env.TZ = 'Europe/Berlin';
    expect(formatTs(Date.UTC(2026, 6, 1, 0, 0, 0, 7))).toBe('2026-07-01T02:00:00.007+02:00');
    expect(formatTs(Date.UTC(2026, 0, 1, 0, 0, 0, 70))).toBe('2026-01-01T01:00:00.070+01:00');
  });

  it('round-trips to the same instant', () => {
    process.env.TZ = 'Asia/Kolkata';
    const s = formatTs(MS);
    expect(s).toBe('2026-11-23T08:19:46.123+05:30');
    expect(parseTs(s)).toBe(MS);
    expect(parseTs('not a time')).toBeUndefined();
  });

  it('rejects NaN', () => {
    expect(() => formatTs(Number.NaN)).toThrow(RangeError);
  });
});

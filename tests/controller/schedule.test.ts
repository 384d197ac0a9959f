import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHoliday, isWithinSchedule, localTime, parseHhmm } from '../../src/controller/schedule.js';
import type { Schedule } from '../../src/store/types.js';

/** Epoch ms of a wall-clock time in UTC+8 (Asia/Shanghai has no DST). */
const cst = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h - 8, mi);
// 2026-11-23 is a Monday.
const MON = 23, TUE = 24, FRI = 27, SAT = 28, SUN = 29, NEXT_MON = 30;

const office: Schedule = {
  id: 'office',
  windows: [{ days: [1, 2, 3, 4, 5], from: '08:00', to: '18:00' }],
  holidays: ['2026-11-24'],
};
const nightShift: Schedule = { id: 'night', windows: [{ days: [5], from: '22:00', to: '06:00' }], holidays: [] };

describe('schedules in the gate\'s local time', () => {
  const savedTz = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = 'Asia/Shanghai';
  });
  afterAll(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  it('reads the local wall clock: date, ISO weekday (Monday = 1, Sunday = 7), minutes', () => {
    expect(localTime(cst(2026, 11, MON, 0, 30))).toEqual({ date: '2026-11-23', isoDay: 1, minutes: 30 });
    expect(localTime(cst(2026, 11, SUN, 23, 59))).toEqual({ date: '2026-11-29', isoDay: 7, minutes: 23 * 60 + 59 });
  });

  it('a window opens at `from` (inclusive) and closes at `to` (exclusive), on its days only', () => {
    expect(isWithinSchedule(office, cst(2026, 11, MON, 7, 59))).toBe(false);
    expect(isWithinSchedule(office, cst(2026, 11, MON, 8, 0))).toBe(true);
    expect(isWithinSchedule(office, cst(2026, 11, MON, 17, 59))).toBe(true);
    expect(isWithinSchedule(office, cst(2026, 11, MON, 18, 0))).toBe(false);
    expect(isWithinSchedule(office, cst(2026, 11, SAT, 10, 0))).toBe(false);
    expect(isWithinSchedule(office, cst(2026, 11, SUN, 10, 0))).toBe(false);
  });

  it('uses local time, not UTC: 08:30 in Shanghai is 00:30 UTC', () => {
    const t = cst(2026, 11, MON, 8, 30);
    expect(isWithinSchedule(office, t)).toBe(true);
    process.env.TZ = 'UTC';
    try {
      expect(isWithinSchedule(office, t)).toBe(false);
    } finally {
      process.env.TZ = 'Asia/Shanghai';
    }
  });

  it('a holiday denies all day long, judged by the local date', () => {
    expect(isWithinSchedule(office, cst(2026, 11, TUE, 10, 0))).toBe(false);
    expect(isHoliday(office, cst(2026, 11, TUE, 0, 0))).toBe(true);
    expect(isHoliday(office, cst(2026, 11, MON, 23, 59))).toBe(false);
    expect(isWithinSchedule(office, cst(2026, 11, TUE + 1, 10, 0))).toBe(true);
    // 2026-11-23T17:30Z is already the 24th (the holiday) in Shanghai.
    expect(isHoliday(office, Date.UTC(2026, 10, 23, 17, 30))).toBe(true);
  });

  it('a window crossing midnight runs from its opening day into the next morning', () => {
    expect(isWithinSchedule(nightShift, cst(2026, 11, FRI, 21, 59))).toBe(false);
    expect(isWithinSchedule(nightShift, cst(2026, 11, FRI, 22, 0))).toBe(true);
    expect(isWithinSchedule(nightShift, cst(2026, 11, SAT, 3, 0))).toBe(true);
    expect(isWithinSchedule(nightShift, cst(2026, 11, SAT, 5, 59))).toBe(true);
    expect(isWithinSchedule(nightShift, cst(2026, 11, SAT, 6, 0))).toBe(false);
    expect(isWithinSchedule(nightShift, cst(2026, 11, SAT, 22, 30))).toBe(false); // Saturday is not a day of it
    expect(isWithinSchedule(nightShift, cst(2026, 11, FRI, 3, 0))).toBe(false); // Thursday night is not either
  });

  it('a Sunday night window wraps into Monday', () => {
    const sundayNight: Schedule = { id: 's', windows: [{ days: [7], from: '23:00', to: '01:00' }], holidays: [] };
    expect(isWithinSchedule(sundayNight, cst(2026, 11, NEXT_MON, 0, 30))).toBe(true);
    expect(isWithinSchedule(sundayNight, cst(2026, 11, MON, 23, 30))).toBe(false);
  });

  it('a holiday also closes the morning part of a window opened the day before', () => {
    const s: Schedule = { ...nightShift, holidays: ['2026-11-28'] };
    expect(isWithinSchedule(s, cst(2026, 11, FRI, 23, 0))).toBe(true);
    expect(isWithinSchedule(s, cst(2026, 11, SAT, 1, 0))).toBe(false);
  });

  it('"24:00" ends a window at midnight; from = to is a full 24 hours', () => {
    const late: Schedule = { id: 'l', windows: [{ days: [1], from: '20:00', to: '24:00' }], holidays: [] };
    expect(isWithinSchedule(late, cst(2026, 11, MON, 23, 59))).toBe(true);
    expect(isWithinSchedule(late, cst(2026, 11, TUE, 0, 0))).toBe(false);
    const allMonday: Schedule = { id: 'a', windows: [{ days: [1], from: '00:00', to: '00:00' }], holidays: [] };
    expect(isWithinSchedule(allMonday, cst(2026, 11, MON, 0, 0))).toBe(true);
    expect(isWithinSchedule(allMonday, cst(2026, 11, MON, 23, 59))).toBe(true);
    expect(isWithinSchedule(allMonday, cst(2026, 11, TUE, 0, 0))).toBe(false);
  });

  it('a malformed window grants nothing', () => {
    for (const w of [
      { days: [1], from: '8:00', to: '18:00' },
      { days: [1], from: '08:00', to: '18:60' },
      { days: [1], from: '24:00', to: '23:00' },
      { days: [1], from: 'nope', to: '18:00' },
    ]) {
      expect(isWithinSchedule({ id: 'x', windows: [w], holidays: [] }, cst(2026, 11, MON, 12, 0)), JSON.stringify(w)).toBe(false);
    }
    expect(isWithinSchedule({ id: 'none', windows: [], holidays: [] }, cst(2026, 11, MON, 12, 0))).toBe(false);
  });

  it('parses HH:MM strictly', () => {
    expect(parseHhmm('00:00')).toBe(0);
    expect(parseHhmm('23:59')).toBe(23 * 60 + 59);
    expect(parseHhmm('24:00')).toBeUndefined();
    expect(parseHhmm('24:00', true)).toBe(24 * 60);
    expect(parseHhmm('7:00')).toBeUndefined();
  });
});

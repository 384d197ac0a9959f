/**
 * Weekly access windows and holidays, in the gate's LOCAL time.
 *
 * The zone is the process's (TZ, or the system zone under systemd): the wall
 * clock is read with Date's local getters on a Date built from the given
 * epoch ms, so this is pure — no clock is read, the time comes in.
 *
 * Rules (DESIGN.md schedule shape):
 * - `days` are 1..7, Monday = 1; `from` is inclusive, `to` exclusive, "HH:MM".
 * - `to` ≤ `from` means the window crosses midnight: it opens on one of
 *   `days` and runs into the next morning ("22:00"–"06:00" on Friday also
 *   covers Saturday 00:00–05:59). `from` = `to` is a full 24 hours.
 *   `to` may be "24:00" (end of day).
 * - A holiday ("YYYY-MM-DD") is judged by the local date of the moment asked
 *   about: on that date nothing in the schedule grants, whichever day the
 *   window opened on.
 * - A malformed window grants nothing (fail closed).
 */
import type { Schedule, ScheduleWindow } from '../store/types.js';

export interface LocalTime {
  /** "YYYY-MM-DD" local date. */
  date: string;
  /** 1..7, Monday = 1. */
  isoDay: number;
  /** Minutes since local midnight (wall clock). */
  minutes: number;
}

const MINUTES_PER_DAY = 24 * 60;
const HHMM = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

export function localTime(nowMs: number): LocalTime {
  const d = new Date(nowMs);
  const date = `${String(d.getFullYear()).padStart(4, '0')}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  // getDay(): Sunday = 0 … Saturday = 6; ISO: Monday = 1 … Sunday = 7.
  return { date, isoDay: d.getDay() === 0 ? 7 : d.getDay(), minutes: d.getHours() * 60 + d.getMinutes() };
}

/** "HH:MM" → minutes since midnight; "24:00" only where `allowEndOfDay`. Undefined when malformed. */
export function parseHhmm(text: string, allowEndOfDay = false): number | undefined {
  if (allowEndOfDay && text === '24:00') return MINUTES_PER_DAY;
  const m = HHMM.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

export function isHoliday(schedule: Schedule, nowMs: number): boolean {
  return schedule.holidays.includes(localTime(nowMs).date);
}

/** True when some window of the schedule is open at `nowMs` and it is not a holiday. */
export function isWithinSchedule(schedule: Schedule, nowMs: number): boolean {
  const t = localTime(nowMs);
  if (schedule.holidays.includes(t.date)) return false;
  return schedule.windows.some((w) => windowOpen(w, t));
}

function windowOpen(w: ScheduleWindow, t: LocalTime): boolean {
  const from = parseHhmm(w.from);
  const to = parseHhmm(w.to, true);
  if (from === undefined || to === undefined || !Array.isArray(w.days)) return false;
  const today = w.days.includes(t.isoDay);
  if (from < to) return today && t.minutes >= from && t.minutes < to;
  // Crosses midnight (or a full day when from = to): the evening part belongs
  // to the opening day, the morning part to the day after it.
  const yesterday = w.days.includes(t.isoDay === 1 ? 7 : t.isoDay - 1);
  return (today && t.minutes >= from) || (yesterday && t.minutes < to);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * Journal timestamps: ISO 8601 with milliseconds and the gate's local UTC
 * offset, never 'Z', so a guard reading an exported journal sees local time
 * and the instant is still exact (2026-11-23T10:49:46.123+08:00).
 */

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;
const pad3 = (n: number): string => (n < 10 ? '00' : n < 100 ? '0' : '') + n;

export function formatTs(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw new RangeError(`formatTs: not a time: ${ms}`);
  // getTimezoneOffset is minutes *behind* UTC: +08:00 gives -480.
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const year = d.getFullYear();
  const y = year >= 0 && year <= 9999 ? String(year).padStart(4, '0') : (year < 0 ? '-' : '+') + String(Math.abs(year)).padStart(6, '0');
  return (
    `${y}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}` +
    `T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${pad3(d.getMilliseconds())}` +
    `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`
  );
}

/** Epoch ms of an ISO 8601 string, or undefined when it is not one. */
export function parseTs(iso: string): number | undefined {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

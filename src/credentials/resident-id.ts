/**
 * The Chinese resident ID number (GB 11643): its check, its key and its mask
 * (DESIGN.md "Credentials"). Shared by the gate (controller/credential.ts,
 * admin registration) and gatectl (whitelist files): the same number gives
 * the same key everywhere. The clear number is never stored or logged.
 */
import { createHmac } from 'node:crypto';

const ID_SHAPE = /^[0-9]{17}[0-9X]$/;
/** GB 11643-1999 / ISO 7064 MOD 11-2 weights for the first 17 digits. */
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character by (weighted sum mod 11). */
const ID_CHECK = '10X98765432';

/** 18 characters, a plausible birth date at positions 7-14, and the MOD 11-2 check character. */
export function isValidResidentId(n: string): boolean {
  if (typeof n !== 'string') return false;
  const id = upperFinalX(n);
  if (!ID_SHAPE.test(id)) return false;
  if (!isPlausibleBirthDate(id.slice(6, 14))) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11] === id[17];
}

/** 'id:' + hex HMAC-SHA256(key, the number with a final x upper-cased). */
export function idKey(n: string, hmacKey: Buffer): string {
  return `id:${createHmac('sha256', hmacKey).update(upperFinalX(n), 'utf8').digest('hex')}`;
}

/**
 * '1101**********123X': first 4 and last 4 of an 18-character number. Anything
 * else is all stars, so a mangled read never shows more than a valid one would.
 */
export function maskResidentId(n: string): string {
  const id = typeof n === 'string' ? upperFinalX(n) : '';
  if (!/^[0-9A-Z]{18}$/.test(id)) return '*'.repeat(18);
  return `${id.slice(0, 4)}${'*'.repeat(10)}${id.slice(14)}`;
}

function upperFinalX(n: string): string {
  return n.endsWith('x') ? `${n.slice(0, -1)}X` : n;
}

function isPlausibleBirthDate(yyyymmdd: string): boolean {
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  // From 1800: the standard's own example, 440524188001010014, was born in 1880.
  if (y < 1800 || y > 2099 || m < 1 || m > 12 || d < 1) return false;
  // Day 0 of the next month is the last day of this one; UTC avoids any zone.
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

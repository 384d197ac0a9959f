/**
 * `dec` format: the UID bytes read as one big-endian unsigned integer and
 * printed in decimal, as EM4100 / Wiegand-output readers do ("0012345678").
 *
 * Byte length rule: decimal drops leading zero bytes, so the original length
 * cannot be recovered. The UID is the minimal big-endian byte string of the
 * value, left-padded with zero bytes to at least 4 bytes. So "0012345678"
 * (0xBC614E) becomes 00BC614E, and a 7-byte NXP UID (first byte 0x04, never
 * zero) round-trips exactly. Leading zero digits are allowed and ignored.
 * Zero itself is rejected: readers print all zeros on a misread.
 */
import { MAX_UID_BYTES, MIN_UID_BYTES, rejected, type ParseResult } from './result.js';

/** 2^160 - 1 has 49 digits; allow a few leading zeros on top. */
const MAX_DIGITS = 60;

export function parseDecimalUid(line: string): ParseResult {
  const text = line.trim();
  if (!/^[0-9]+$/.test(text)) return rejected('bad dec: not decimal digits');
  if (text.length > MAX_DIGITS) return rejected('bad dec: too many digits');
  const value = BigInt(text);
  if (value === 0n) return rejected('bad dec: zero');
  let hex = value.toString(16).toUpperCase();
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (hex.length / 2 > MAX_UID_BYTES) return rejected(`bad dec: value over ${MAX_UID_BYTES} bytes`);
  const uid = hex.padStart(MIN_UID_BYTES * 2, '0');
  return { ok: true, cred: { kind: 'card', uid } };
}

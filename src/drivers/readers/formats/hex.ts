/**
 * `hex` format: a card UID as hex digits, as most USB/serial card readers
 * print it. Byte pairs may be separated by ':', ' ' or '-' ("04:A1:B2:C3").
 */
import { MAX_UID_BYTES, MIN_UID_BYTES, rejected, type ParseResult } from './result.js';

const SHAPE = /^[0-9A-Fa-f]{2}(?:[: -]?[0-9A-Fa-f]{2})*$/;
const HEX_ONLY = /^[0-9A-Fa-f]*$/;

export function parseHexUid(line: string): ParseResult {
  const text = line.trim();
  if (!SHAPE.test(text)) {
    const digits = text.replace(/[: -]/g, '');
    if (HEX_ONLY.test(digits) && digits.length % 2 === 1) return rejected('bad hex: odd number of digits');
    return rejected('bad hex: not hex digits');
  }
  const uid = text.replace(/[: -]/g, '').toUpperCase();
  const bytes = uid.length / 2;
  if (bytes < MIN_UID_BYTES || bytes > MAX_UID_BYTES) {
    return rejected(`bad hex: ${bytes} bytes, expected ${MIN_UID_BYTES}..${MAX_UID_BYTES}`);
  }
  return { ok: true, cred: { kind: 'card', uid } };
}

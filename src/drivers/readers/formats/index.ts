/**
 * One parser per configured reader `format`, plus `auto` for the simulated
 * reader (a person typing at the terminal): ID shape → id, GP1. → pass,
 * hex → card. The ID test comes first because 18 digits are also valid hex.
 */
import { parseDecimalUid } from './dec.js';
import { parseHexUid } from './hex.js';
import { parseQrPass, PASS_PREFIX } from './qr-pass.js';
import { parseResidentId, RESIDENT_ID_SHAPE } from './resident-id.js';
import { rejected, type ParseResult } from './result.js';
import { parseWiegand26 } from './wiegand26.js';

export type { ParseResult } from './result.js';
export type LineFormat = 'hex' | 'dec' | 'wiegand26' | 'id' | 'qr' | 'auto';

export function parseAuto(line: string): ParseResult {
  const text = line.trim();
  if (RESIDENT_ID_SHAPE.test(text)) return parseResidentId(text);
  if (text.startsWith(PASS_PREFIX)) return parseQrPass(text);
  const card = parseHexUid(text);
  if (card.ok) return card;
  return rejected('unrecognized input: expected a card UID (hex), an 18-character ID number or a GP1 pass');
}

export const PARSERS: Record<LineFormat, (line: string) => ParseResult> = {
  hex: parseHexUid,
  dec: parseDecimalUid,
  wiegand26: parseWiegand26,
  id: parseResidentId,
  qr: parseQrPass,
  auto: parseAuto,
};

/** Longest line each format can legitimately produce (framing rejects longer ones). */
export const MAX_LINE: Record<LineFormat, number> = {
  hex: 128,
  dec: 128,
  wiegand26: 64,
  id: 64,
  qr: 4096,
  auto: 4096,
};

export { parseDecimalUid, parseHexUid, parseQrPass, parseResidentId, parseWiegand26 };

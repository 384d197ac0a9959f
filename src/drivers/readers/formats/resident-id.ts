/**
 * `id` format: an 18-character resident ID number (17 digits, then a digit or
 * X) as an ID-card reader prints it. Only the shape is checked here; the
 * controller verifies the GB 11643 check digit and denies a bad one as
 * INVALID_FORMAT, so a typo is journaled rather than silently dropped.
 */
import { rejected, type ParseResult } from './result.js';

export const RESIDENT_ID_SHAPE = /^[0-9]{17}[0-9Xx]$/;

export function parseResidentId(line: string): ParseResult {
  const text = line.trim();
  if (!RESIDENT_ID_SHAPE.test(text)) return rejected('bad id: expected 17 digits and a digit or X');
  return { ok: true, cred: { kind: 'id', number: text } };
}

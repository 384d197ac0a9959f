/**
 * What a line parser returns: a credential, or a reason that names what was
 * wrong without repeating the input (reasons reach logs and the journal).
 */
import type { RawCredential } from '../../types.js';

export type ParseResult = { ok: true; cred: RawCredential } | { ok: false; reason: string };

export function rejected(reason: string): ParseResult {
  return { ok: false, reason };
}

/** Card UIDs in the credential key are 4..20 bytes (4, 7 and 10 are the ISO 14443 sizes). */
export const MIN_UID_BYTES = 4;
export const MAX_UID_BYTES = 20;

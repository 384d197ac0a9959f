/**
 * From what a reader saw to the normalized key the whitelist is keyed on
 * (DESIGN.md "Credentials"), plus the masked display form that events, the
 * admin page and log lines carry. A clear ID number goes no further than
 * credentials/resident-id.ts: only its HMAC (the key) and its mask (the
 * display) leave. Invalid input is never echoed beyond a masked form either.
 */
import type { KeyObject } from 'node:crypto';
import { parsePassUnverified, passKey, verifyPass, type PassBody } from '../credentials/pass.js';
import { idKey, isValidResidentId, maskResidentId } from '../credentials/resident-id.js';
import type { RawCredential } from '../drivers/types.js';

export type CredentialKind = 'card' | 'id' | 'pass';

export type Normalized =
  | { ok: true; kind: CredentialKind; key: string; display: string; pass?: PassBody }
  | { ok: false; kind: CredentialKind; reason: 'INVALID_FORMAT' | 'BAD_SIGNATURE'; display: string };

export type NormalizedOk = Extract<Normalized, { ok: true }>;

export interface NormalizeDeps {
  /** HMAC key for resident ID numbers: the bytes `privacy.idHashKey` (hex) encodes. */
  idHashKey: Buffer;
  /** Keys that sign passes this gate accepts; a function so a whitelist push can add one. */
  passKeys: () => KeyObject[];
}

/**
 * UIDs are 3..20 bytes: 4, 7 and 10 are the ISO 14443 sizes, and a Wiegand 26
 * card carries 24 data bits, which the wiegand26 reader format turns into a
 * 3-byte UID (src/drivers/readers/formats/wiegand26.ts).
 */
export const MIN_UID_BYTES = 3;
export const MAX_UID_BYTES = 20;

const SEPARATORS = /[\s:.-]/g;
/** The UID in key form (UPPERCASE hex, no separators), or undefined when it is not one. */
export function canonicalUid(uid: string): string | undefined {
  const hex = uid.replace(SEPARATORS, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex) || hex.length % 2 !== 0) return undefined;
  const bytes = hex.length / 2;
  return bytes >= MIN_UID_BYTES && bytes <= MAX_UID_BYTES ? hex : undefined;
}

/** 'card:' + UPPERCASE hex; throws INVALID_FORMAT for anything that is not a UID. */
export function cardKey(uidHex: string): string {
  const hex = canonicalUid(uidHex);
  if (!hex) throw Object.assign(new Error('not a card UID (3..20 hex bytes)'), { code: 'INVALID_FORMAT' });
  return `card:${hex}`;
}

/** 'card:****' + the last 4 hex digits. Non-hex characters never reach the display. */
export function maskCard(uidHex: string): string {
  const hex = uidHex.toUpperCase().replace(/[^0-9A-F]/g, '');
  return `card:****${hex.slice(-4)}`;
}

export function normalize(raw: RawCredential, deps: NormalizeDeps): Normalized {
  switch (raw.kind) {
    case 'card': {
      const hex = canonicalUid(raw.uid);
      if (!hex) return { ok: false, kind: 'card', reason: 'INVALID_FORMAT', display: maskCard(raw.uid) };
      return { ok: true, kind: 'card', key: `card:${hex}`, display: maskCard(hex) };
    }
    case 'id': {
      const display = maskResidentId(raw.number);
      if (!isValidResidentId(raw.number)) return { ok: false, kind: 'id', reason: 'INVALID_FORMAT', display };
      return { ok: true, kind: 'id', key: idKey(raw.number, deps.idHashKey), display };
    }
    case 'pass': {
      const checked = verifyPass(raw.token, deps.passKeys());
      if (!checked.ok) {
        return { ok: false, kind: 'pass', reason: checked.reason, display: passDisplay(raw.token) };
      }
      const key = passKey(checked.body.pid);
      return { ok: true, kind: 'pass', key, display: key, pass: checked.body };
    }
    default:
      return unreachable(raw);
  }
}

/** A rejected pass shows the pid it claims (a pid is not personal data), or nothing. */
function passDisplay(token: string): string {
  const claimed = parsePassUnverified(token);
  return claimed ? passKey(claimed.pid) : 'pass:?';
}

function unreachable(raw: never): never {
  throw Object.assign(new Error(`unknown credential kind ${JSON.stringify((raw as { kind?: unknown }).kind)}`), {
    code: 'INVALID_FORMAT',
  });
}

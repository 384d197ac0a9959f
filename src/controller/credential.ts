/**
 * From what a reader saw to the normalized key the whitelist is keyed on
 * (DESIGN.md "Credentials"), plus the masked display form that events, the
 * admin page and log lines carry. A clear ID number never leaves this file:
 * only its HMAC (the key) and its mask (the display) do. Invalid input is
 * never echoed beyond a masked form either.
 */
import { createHmac, type KeyObject } from 'node:crypto';
import type { RawCredential } from '../drivers/types.js';
import { parsePassUnverified, passKey, verifyPass, type PassBody } from './pass.js';

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
const ID_SHAPE = /^[0-9]{17}[0-9X]$/;
/** GB 11643-1999 / ISO 7064 MOD 11-2 weights for the first 17 digits. */
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character by (weighted sum mod 11). */
const ID_CHECK = '10X98765432';

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

function unreachable(raw: never): never {
  throw Object.assign(new Error(`unknown credential kind ${JSON.stringify((raw as { kind?: unknown }).kind)}`), {
    code: 'INVALID_FORMAT',
  });
}

/**
 * QR visitor passes (DESIGN.md "Credentials"):
 *   GP1.<base64url(body JSON)>.<base64url(Ed25519 signature over the body bytes)>
 *
 * Verified offline against the few trusted keys (central's and the gate's
 * own). Checks run in this order, so the reason says what went wrong:
 *   1. shape (prefix, three parts, base64url alphabet, sizes) → INVALID_FORMAT;
 *   2. signature over the exact body bytes, tried with each key → BAD_SIGNATURE
 *      (before any JSON is trusted: an altered byte that also breaks the JSON
 *      is still a forgery, not a format error);
 *   3. body JSON and schema → INVALID_FORMAT (a signer bug, never a forgery).
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export interface PassBody {
  pid: string;
  site: string;
  gates?: string[];
  /** Not valid before, epoch seconds. */
  nbf: number;
  /** Expires at, epoch seconds. */
  exp: number;
  /** Entries allowed (counted locally, direction 'in'). */
  max?: number;
  host?: string;
  escort?: boolean;
}

export type PassCheck = { ok: true; body: PassBody } | { ok: false; reason: 'INVALID_FORMAT' | 'BAD_SIGNATURE' };

const PREFIX = 'GP1';
/** A QR code holds ~2.9 KB at best; anything longer is not a pass. */
export const MAX_TOKEN_CHARS = 2048;
const ED25519_SIG_BYTES = 64;
const B64URL = /^[A-Za-z0-9_-]+$/;
/** Printable ASCII, no spaces: a pid lands in keys, events and log lines. */
const PRINTABLE = /^[\x21-\x7e]+$/;
const epochSeconds = z.number().int().min(0).max(253_402_300_799); // up to 9999-12-31

const bodySchema = z
  .object({
    pid: z.string().min(1).max(64).regex(PRINTABLE),
    site: z.string().min(1).max(64).regex(PRINTABLE),
    gates: z.array(z.string().min(1).max(64).regex(PRINTABLE)).min(1).max(64).optional(),
    nbf: epochSeconds,
    exp: epochSeconds,
    max: z.number().int().positive().max(1_000_000).optional(),
    host: z.string().min(1).max(64).optional(),
    escort: z.boolean().optional(),
  })
  .refine((b) => b.nbf < b.exp, { message: 'nbf must be before exp', path: ['exp'] });

export function passKey(pid: string): string {
  return `pass:${pid}`;
}

/** Sign a pass body; throws `INVALID_PASS_BODY` for a body the gate would refuse itself. */
export function signPass(body: PassBody, privateKey: KeyObject): string {
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw Object.assign(new Error(`invalid pass body: ${issue?.path.join('.') || 'body'}: ${issue?.message}`), {
      code: 'INVALID_PASS_BODY',
    });
  }
  const bytes = Buffer.from(JSON.stringify(canonicalOrder(parsed.data)), 'utf8');
  const sig = sign(null, bytes, privateKey);
  return `${PREFIX}.${bytes.toString('base64url')}.${sig.toString('base64url')}`;
}

export function verifyPass(token: string, keys: readonly KeyObject[]): PassCheck {
  const parts = splitToken(token);
  if (!parts) return { ok: false, reason: 'INVALID_FORMAT' };
  const { bodyText, bodyBytes, sig } = parts;
  // Base64url has spare bits in its last character: a token re-encoding to
  // other text than it arrived as was altered even if the bytes did not change.
  if (bodyBytes.toString('base64url') !== bodyText.body || sig.toString('base64url') !== bodyText.sig) {
    return { ok: false, reason: 'BAD_SIGNATURE' };
  }
  if (sig.length !== ED25519_SIG_BYTES) return { ok: false, reason: 'BAD_SIGNATURE' };
  if (!keys.some((key) => verifyWith(key, bodyBytes, sig))) return { ok: false, reason: 'BAD_SIGNATURE' };
  const body = parseBody(bodyBytes);
  return body ? { ok: true, body } : { ok: false, reason: 'INVALID_FORMAT' };
}

/**
 * The body of a pass WITHOUT checking its signature: for showing what a
 * rejected pass claimed (pid only). Never base a decision on it.
 */
export function parsePassUnverified(token: string): PassBody | undefined {
  const parts = splitToken(token);
  return parts ? parseBody(parts.bodyBytes) : undefined;
}

function splitToken(
  token: string,
): { bodyText: { body: string; sig: string }; bodyBytes: Buffer; sig: Buffer } | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
  const [, body = '', sig = ''] = parts;
  if (!B64URL.test(body) || !B64URL.test(sig)) return undefined;
  return { bodyText: { body, sig }, bodyBytes: Buffer.from(body, 'base64url'), sig: Buffer.from(sig, 'base64url') };
}

function verifyWith(key: KeyObject, data: Buffer, sig: Buffer): boolean {
  try {
    return verify(null, data, key, sig);
  } catch {
    return false; // a key of another type (RSA, X25519) cannot verify an Ed25519 pass
  }
}

function parseBody(bytes: Buffer): PassBody | undefined {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = bodySchema.safeParse(json);
  return parsed.success ? canonicalOrder(parsed.data) : undefined;
}

/** Fixed field order and no undefined fields: the same body always signs to the same bytes. */
function canonicalOrder(b: PassBody): PassBody {
  const out: PassBody = { pid: b.pid, site: b.site, nbf: b.nbf, exp: b.exp };
  if (b.gates !== undefined) out.gates = [...b.gates];
  if (b.max !== undefined) out.max = b.max;
  if (b.host !== undefined) out.host = b.host;
  if (b.escort !== undefined) out.escort = b.escort;
  return out;
}

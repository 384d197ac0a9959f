/**
 * Signed envelope (central → gate): `{"kid", "body": "<JSON text>", "sig":
 * "<base64url Ed25519 signature over the UTF-8 bytes of body>"}`.
 * The signature covers the exact body text, so nothing is re-serialized
 * before checking; the body is parsed only after the signature holds.
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';

export interface Envelope {
  kid: string;
  body: string;
  sig: string;
}

export type OpenResult =
  | { ok: true; kid: string; body: unknown; /** the signed JSON text, as received (manifest hashing). */ bodyText: string }
  | { ok: false; code: 'OVERSIZE' | 'BAD_JSON' | 'UNKNOWN_KID' | 'BAD_SIGNATURE'; message: string };

export function signEnvelope(body: unknown, kid: string, key: KeyObject): Envelope {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { kid, body: text, sig: sign(null, Buffer.from(text, 'utf8'), key).toString('base64url') };
}

/** Encode for publishing. */
export function envelopeBytes(env: Envelope): Buffer {
  return Buffer.from(JSON.stringify(env), 'utf8');
}

export function openEnvelope(payload: Buffer, keys: ReadonlyMap<string, KeyObject>, maxBytes: number): OpenResult {
  if (payload.length > maxBytes) {
    return { ok: false, code: 'OVERSIZE', message: `payload of ${payload.length} bytes exceeds ${maxBytes}` };
  }
  let env: unknown;
  try {
    env = JSON.parse(payload.toString('utf8'));
  } catch (cause) {
    return { ok: false, code: 'BAD_JSON', message: `envelope is not JSON: ${(cause as Error).message}` };
  }
  if (
    typeof env !== 'object' || env === null ||
    typeof (env as Envelope).kid !== 'string' ||
    typeof (env as Envelope).body !== 'string' ||
    typeof (env as Envelope).sig !== 'string'
  ) {
    return { ok: false, code: 'BAD_JSON', message: 'envelope must be {kid, body, sig} with string fields' };
  }
  const { kid, body, sig } = env as Envelope;
  const key = keys.get(kid);
  if (!key) return { ok: false, code: 'UNKNOWN_KID', message: `no public key for kid "${kid.slice(0, 64)}"` };
  let good = false;
  try {
    const sigBytes = Buffer.from(sig, 'base64url');
    good = sigBytes.length === 64 && verify(null, Buffer.from(body, 'utf8'), key, sigBytes);
  } catch {
    good = false;
  }
  if (!good) return { ok: false, code: 'BAD_SIGNATURE', message: `signature does not verify with kid "${kid}"` };
  try {
    return { ok: true, kid, body: JSON.parse(body), bodyText: body };
  } catch (cause) {
    return { ok: false, code: 'BAD_JSON', message: `signed body is not JSON: ${(cause as Error).message}` };
  }
}

/** Manifest `sha256`: hex SHA-256 of the chunks' `body` strings concatenated in index order. */
export function manifestHash(chunkBodies: readonly string[]): string {
  const h = createHash('sha256');
  for (const b of chunkBodies) h.update(b, 'utf8');
  return h.digest('hex');
}

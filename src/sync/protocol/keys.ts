/**
 * Ed25519 keys for signed envelopes and passes (node:crypto only).
 * Public keys come as SPKI PEM or as base64 of the 32 raw bytes (DESIGN.md
 * config `central.keys`); private keys as PKCS#8 PEM.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the raw 32 bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class KeyError extends Error {
  readonly code = 'BAD_KEY';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyError';
  }
}

function requireEd25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyError(`${what} is a ${key.asymmetricKeyType ?? 'unknown'} key, expected ed25519`);
  }
  return key;
}

export function loadPublicKey(pemOrBase64Raw: string): KeyObject {
  const text = pemOrBase64Raw.trim();
  try {
    if (text.includes('-----BEGIN')) return requireEd25519(createPublicKey(text), 'public key');
    const raw = Buffer.from(text, 'base64');
    if (raw.length !== 32 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
      throw new KeyError(`public key: expected SPKI PEM or base64 of 32 raw bytes, got ${raw.length} bytes`);
    }
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch (cause) {
    if (cause instanceof KeyError) throw cause;
    throw new KeyError(`public key: ${(cause as Error).message}`, { cause });
  }
}

export function loadPrivateKey(pem: string): KeyObject {
  try {
    return requireEd25519(createPrivateKey(pem), 'private key');
  } catch (cause) {
    if (cause instanceof KeyError) throw cause;
    throw new KeyError(`private key: ${(cause as Error).message}`, { cause });
  }
}

/** The 32 raw bytes of an Ed25519 public key, base64. */
export function publicKeyRaw(key: KeyObject): string {
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32).toString('base64');
}

export function generateKeyPair(): { publicPem: string; privatePem: string; publicRaw: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicRaw: publicKeyRaw(publicKey),
  };
}

/**
 * Password hashing with scrypt (memory-hard, in node:crypto: no extra
 * dependency). N = 2^15, r = 8, p = 1 uses 32 MiB and ~100-200 ms on a Pi 4;
 * it runs on libuv's thread pool so the gate's hot path keeps its thread.
 * Encoded as `scrypt$N$r$p$salt$hash` (base64url) so parameters can grow.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface KdfParams {
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_KDF: KdfParams = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LEN = 32;

function derive(password: string, salt: Buffer, k: KdfParams): Promise<Buffer> {
  // maxmem must exceed 128 * N * r (32 MiB at the default), or scrypt refuses.
  const opts: ScryptOptions = { N: k.N, r: k.r, p: k.p, maxmem: 256 * k.N * k.r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LEN, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string, k: KdfParams = DEFAULT_KDF): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, k);
  return ['scrypt', k.N, k.r, k.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** False for a wrong password or an unreadable hash; never throws on input. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length !== KEY_LEN) return false;
  const key = await derive(password, salt, { N, r, p });
  return timingSafeEqual(key, expected);
}

/** A hash no password matches, verified for unknown accounts so timing does not tell them apart. */
export async function dummyHash(k: KdfParams = DEFAULT_KDF): Promise<string> {
  return hashPassword(randomBytes(24).toString('base64url'), k);
}

/** Rules for a new password: long enough to resist guessing despite the lockout. */
export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== 'string') return 'password must be a string';
  if (password.length < 10) return 'password must be at least 10 characters';
  if (password.length > 200) return 'password must be at most 200 characters';
  return undefined;
}

export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

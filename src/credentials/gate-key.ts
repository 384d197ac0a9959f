/**
 * The gate's own Ed25519 key, made on first start. It signs visitor passes
 * made on site at the admin page; the gate trusts it, and publishes the
 * public half in its status so central can hand it to the site's other gates.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

const SETTING = 'gate.passKey.private';

export interface GateKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM of the public key. */
  publicPem: string;
}

/** Where the key is kept: the store's Settings (a narrow view, so this module imports no layer). */
export interface KeySettings {
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): void;
}

export function loadOrCreateGateKey(settings: KeySettings): GateKey {
  let pem = settings.get<string>(SETTING);
  if (!pem) {
    const { privateKey } = generateKeyPairSync('ed25519');
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    settings.set(SETTING, pem);
  }
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MAX_TOKEN_CHARS,
  parsePassUnverified,
  passKey,
  signPass,
  verifyPass,
  type PassBody,
} from '../../src/credentials/pass.js';

const central = generateKeyPairSync('ed25519');
const gateOwn = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const BODY: PassBody = {
  pid: 'V-2026-0042',
  site: 's1',
  gates: ['g1', 'g2'],
  nbf: 1_795_000_000,
  exp: 1_795_086_400,
  max: 2,
  host: 'P-100',
  escort: true,
};
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A token whose body bytes are exactly `json`, signed by `key` — for bodies signPass would refuse. */
function rawToken(json: string, key = central.privateKey): string {
  const bytes = Buffer.from(json, 'utf8');
  return `GP1.${bytes.toString('base64url')}.${sign(null, bytes, key).toString('base64url')}`;
}

describe('QR passes', () => {
  it('round-trips: GP1.<base64url JSON>.<base64url Ed25519 signature over those bytes>', () => {
    const token = signPass(BODY, central.privateKey);
    const [prefix, body, sig] = token.split('.');
    expect(prefix).toBe('GP1');
    expect(JSON.parse(Buffer.from(body!, 'base64url').toString('utf8'))).toEqual(BODY);
    expect(Buffer.from(sig!, 'base64url')).toHaveLength(64);
    expect(verifyPass(token, [central.publicKey])).toEqual({ ok: true, body: BODY });
    expect(passKey(BODY.pid)).toBe('pass:V-2026-0042');
  });

  it('accepts a pass signed by any trusted key (central or the gate itself)', () => {
    const token = signPass({ pid: 'L-1', site: 's1', nbf: 10, exp: 20 }, gateOwn.privateKey);
    expect(verifyPass(token, [central.publicKey, gateOwn.publicKey]).ok).toBe(true);
    expect(verifyPass(token, [central.publicKey])).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(verifyPass(token, [])).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('a pass signed by an untrusted key is BAD_SIGNATURE', () => {
    expect(verifyPass(signPass(BODY, stranger.privateKey), [central.publicKey])).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
  });

  it('ANY altered character of the body or signature is BAD_SIGNATURE', () => {
    const token = signPass(BODY, central.privateKey);
    const firstDot = token.indexOf('.');
    let altered = 0;
    for (let i = firstDot + 1; i < token.length; i++) {
      if (token[i] === '.') continue;
      const next = B64URL[(B64URL.indexOf(token[i]!) + 1) % 64]!;
      const forged = token.slice(0, i) + next + token.slice(i + 1);
      expect(verifyPass(forged, [central.publicKey]), `char ${i}`).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
      altered++;
    }
    expect(altered).toBeGreaterThan(100);
  });

  it('a re-signed body with a widened window is still refused without the private key', () => {
    const token = signPass(BODY, central.privateKey);
    const [, , sig] = token.split('.');
    const widened = Buffer.from(JSON.stringify({ ...BODY, exp: BODY.exp + 86_400 * 365 })).toString('base64url');
    expect(verifyPass(`GP1.${widened}.${sig}`, [central.publicKey])).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('malformed tokens are INVALID_FORMAT', () => {
    const good = signPass(BODY, central.privateKey);
    for (const bad of [
      '',
      'GP1',
      'GP2' + good.slice(3),
      good + '.extra',
      good.replace('.', '..'),
      'GP1.a b.c',
      'GP1.abc=.def',
      'GP1.' + 'A'.repeat(MAX_TOKEN_CHARS) + '.AA',
    ]) {
      expect(verifyPass(bad, [central.publicKey]), bad.slice(0, 30)).toEqual({ ok: false, reason: 'INVALID_FORMAT' });
    }
  });

  it('a validly signed but malformed body is INVALID_FORMAT', () => {
    const ok = { pid: 'P', site: 's1', nbf: 10, exp: 20 };
    for (const json of [
      'not json',
      '[]',
      JSON.stringify({ ...ok, pid: '' }),
      JSON.stringify({ ...ok, pid: 'x'.repeat(65) }),
      JSON.stringify({ ...ok, pid: 'has space' }),
      JSON.stringify({ ...ok, site: undefined }),
      JSON.stringify({ ...ok, nbf: 10.5 }),
      JSON.stringify({ ...ok, nbf: '10' }),
      JSON.stringify({ ...ok, nbf: 20, exp: 20 }),
      JSON.stringify({ ...ok, nbf: 30, exp: 20 }),
      JSON.stringify({ ...ok, exp: 1_795_000_000_000 * 1000 }),
      JSON.stringify({ ...ok, max: 0 }),
      JSON.stringify({ ...ok, max: 1.5 }),
      JSON.stringify({ ...ok, escort: 'yes' }),
      JSON.stringify({ ...ok, gates: [] }),
      JSON.stringify({ ...ok, gates: 'g1' }),
    ]) {
      expect(verifyPass(rawToken(json), [central.publicKey]), json).toEqual({ ok: false, reason: 'INVALID_FORMAT' });
    }
    expect(verifyPass(rawToken(JSON.stringify(ok)), [central.publicKey])).toEqual({ ok: true, body: ok });
  });

  it('signPass refuses a body the gate would refuse, with a code', () => {
    expect(() => signPass({ ...BODY, exp: BODY.nbf }, central.privateKey)).toThrow(
      expect.objectContaining({ code: 'INVALID_PASS_BODY' }),
    );
  });

  it('a key of the wrong type never throws, it just does not verify', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const token = signPass(BODY, central.privateKey);
    expect(verifyPass(token, [rsa.publicKey, central.publicKey]).ok).toBe(true);
    expect(verifyPass(token, [rsa.publicKey])).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('parsePassUnverified shows what a token claims, for display only', () => {
    expect(parsePassUnverified(signPass(BODY, stranger.privateKey))?.pid).toBe('V-2026-0042');
    expect(parsePassUnverified('GP1.zzz.zzz')).toBeUndefined();
  });
});

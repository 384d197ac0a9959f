import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cardKey, maskCard, normalize } from '../../src/controller/credential.js';
import { idKey, isValidResidentId, maskResidentId } from '../../src/credentials/resident-id.js';
import { signPass } from '../../src/credentials/pass.js';

/** ISO 7064 MOD 11-2 written from its definition (weights 2^(17-i) mod 11), independent of the code under test. */
function withCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (2 ** (17 - i) % 11);
  const c = (12 - (sum % 11)) % 11;
  return first17 + (c === 10 ? 'X' : String(c));
}

const HMAC_KEY = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
const central = generateKeyPairSync('ed25519');
const deps = { idHashKey: HMAC_KEY, passKeys: () => [central.publicKey] };

describe('resident ID numbers (GB 11643, ISO 7064 MOD 11-2)', () => {
  it('accepts the examples of the standard, with X in either case', () => {
    expect(isValidResidentId('11010519491231002X')).toBe(true);
    expect(isValidResidentId('11010519491231002x')).toBe(true);
    expect(isValidResidentId('440524188001010014')).toBe(true);
    expect(withCheckChar('11010519491231002')).toBe('11010519491231002X');
  });

  it('rejects every wrong check character', () => {
    const first17 = '11010119900307447';
    const good = withCheckChar(first17);
    expect(isValidResidentId(good)).toBe(true);
    for (const c of '0123456789X') {
      if (first17 + c !== good) expect(isValidResidentId(first17 + c), first17 + c).toBe(false);
    }
  });

  it('rejects a single mistyped digit anywhere', () => {
    const good = '11010519491231002X';
    for (let i = 0; i < 17; i++) {
      const d = good[i] === '9' ? '0' : String(Number(good[i]) + 1);
      expect(isValidResidentId(good.slice(0, i) + d + good.slice(i + 1)), `position ${i}`).toBe(false);
    }
  });

  it('rejects implausible birth dates even with a correct check character', () => {
    for (const date of ['19491331', '19490230', '19000229', '17991231', '21000101', '19490100']) {
      expect(isValidResidentId(withCheckChar(`110105${date}002`)), date).toBe(false);
    }
    expect(isValidResidentId(withCheckChar('110105200002290021'.slice(0, 17)))).toBe(true); // 2000 was leap
  });

  it('rejects wrong lengths and characters', () => {
    for (const bad of ['', '11010519491231002', '11010519491231002X0', '1101051949123100X2', '11010519491231002Y', ' 11010519491231002X']) {
      expect(isValidResidentId(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('idKey is HMAC-SHA256 with the key bytes over the number with a final X upper-cased', () => {
    const expected = createHmac('sha256', HMAC_KEY).update('11010519491231002X').digest('hex');
    expect(idKey('11010519491231002X', HMAC_KEY)).toBe(`id:${expected}`);
    expect(idKey('11010519491231002x', HMAC_KEY)).toBe(`id:${expected}`);
    expect(idKey('11010519491231002X', Buffer.from('other'))).not.toBe(`id:${expected}`);
    expect(idKey('11010519491231002X', HMAC_KEY)).not.toContain('1101051949');
  });

  it('masks to the first 4 and last 4 characters; anything else is all stars', () => {
    expect(maskResidentId('11010519491231002X')).toBe('1101**********002X');
    expect(maskResidentId('11010519491231002x')).toBe('1101**********002X');
    expect(maskResidentId('1101051949')).toBe('******************');
  });
});

describe('cards', () => {
  it('cardKey upper-cases and strips separators', () => {
    expect(cardKey('04a1b2c3')).toBe('card:04A1B2C3');
    expect(cardKey('04:a1:b2:c3:d4:e5:f6')).toBe('card:04A1B2C3D4E5F6');
    expect(cardKey('7BB26E')).toBe('card:7BB26E'); // Wiegand 26: 3 bytes
  });

  it('cardKey throws INVALID_FORMAT for what is not a UID', () => {
    for (const bad of ['04A1B2C', 'ZZ11', '04A1', '00'.repeat(21), '']) {
      expect(() => cardKey(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_FORMAT' }));
    }
  });

  it('maskCard keeps the last 4 hex digits', () => {
    expect(maskCard('04A1B2C3')).toBe('card:****B2C3');
    expect(maskCard('04a1b2c3')).toBe('card:****B2C3');
  });
});

describe('normalize', () => {
  it('card → key and masked display', () => {
    expect(normalize({ kind: 'card', uid: '04-a1-b2-c3' }, deps)).toEqual({
      ok: true, kind: 'card', key: 'card:04A1B2C3', display: 'card:****B2C3',
    });
  });

  it('bad card → INVALID_FORMAT; the display never carries non-hex input', () => {
    const r = normalize({ kind: 'card', uid: '04A1B2<script>' }, deps);
    expect(r).toEqual({ ok: false, kind: 'card', reason: 'INVALID_FORMAT', display: 'card:****1B2C' });
  });

  it('id → HMAC key; the clear number appears nowhere in the result', () => {
    const r = normalize({ kind: 'id', number: '11010519491231002x' }, deps);
    expect(r).toEqual({
      ok: true, kind: 'id', key: idKey('11010519491231002X', HMAC_KEY), display: '1101**********002X',
    });
    expect(JSON.stringify(r)).not.toMatch(/1949123100/);
  });

  it('id with a bad check digit → INVALID_FORMAT with a masked display only', () => {
    const r = normalize({ kind: 'id', number: '110105194912310021' }, deps);
    expect(r).toEqual({ ok: false, kind: 'id', reason: 'INVALID_FORMAT', display: '1101**********0021' });
    expect(JSON.stringify(r)).not.toMatch(/1949123100/);
  });

  it('pass → pass:<pid> key and the verified body', () => {
    const body = { pid: 'V-2026-0001', site: 's1', nbf: 1_700_000_000, exp: 1_800_000_000, max: 2 };
    const r = normalize({ kind: 'pass', token: signPass(body, central.privateKey) }, deps);
    expect(r).toEqual({ ok: true, kind: 'pass', key: 'pass:V-2026-0001', display: 'pass:V-2026-0001', pass: body });
  });

  it('forged pass → BAD_SIGNATURE showing the pid it claims; garbage → INVALID_FORMAT', () => {
    const forger = generateKeyPairSync('ed25519');
    const token = signPass({ pid: 'FAKE-1', site: 's1', nbf: 1, exp: 2 }, forger.privateKey);
    expect(normalize({ kind: 'pass', token }, deps)).toEqual({
      ok: false, kind: 'pass', reason: 'BAD_SIGNATURE', display: 'pass:FAKE-1',
    });
    expect(normalize({ kind: 'pass', token: 'GP1.not a pass' }, deps)).toEqual({
      ok: false, kind: 'pass', reason: 'INVALID_FORMAT', display: 'pass:?',
    });
  });

  it('reads the pass keys at each call, so a key added later is trusted at once', () => {
    const keys = [central.publicKey];
    const own = generateKeyPairSync('ed25519');
    const token = signPass({ pid: 'LOCAL-7', site: 's1', nbf: 1, exp: 2 }, own.privateKey);
    const d = { idHashKey: HMAC_KEY, passKeys: () => keys };
    expect(normalize({ kind: 'pass', token }, d).ok).toBe(false);
    keys.push(own.publicKey);
    expect(normalize({ kind: 'pass', token }, d).ok).toBe(true);
  });
});

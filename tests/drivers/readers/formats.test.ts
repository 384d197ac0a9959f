import { describe, expect, it } from 'vitest';
import {
  parseAuto,
  parseDecimalUid,
  parseHexUid,
  parseQrPass,
  parseResidentId,
  parseWiegand26,
} from '../../../src/drivers/readers/formats/index.js';

const card = (uid: string) => ({ ok: true, cred: { kind: 'card', uid } });

describe('hex', () => {
  it('uppercases and strips : space - separators', () => {
    expect(parseHexUid('04a1b2c3')).toEqual(card('04A1B2C3'));
    expect(parseHexUid('04:A1:B2:C3:D4:E5:F6')).toEqual(card('04A1B2C3D4E5F6'));
    expect(parseHexUid('04 a1 b2 c3')).toEqual(card('04A1B2C3'));
    expect(parseHexUid('04-A1-B2-C3')).toEqual(card('04A1B2C3'));
    expect(parseHexUid('  04A1B2C3  ')).toEqual(card('04A1B2C3'));
  });
  it('rejects odd length, non-hex, too short, too long, dangling separators', () => {
    expect(parseHexUid('04A1B2C')).toEqual({ ok: false, reason: 'bad hex: odd number of digits' });
    expect(parseHexUid('04A1B2CG')).toEqual({ ok: false, reason: 'bad hex: not hex digits' });
    expect(parseHexUid('04A1B2')).toEqual({ ok: false, reason: 'bad hex: 3 bytes, expected 4..20' });
    expect(parseHexUid('AB'.repeat(21))).toMatchObject({ ok: false, reason: 'bad hex: 21 bytes, expected 4..20' });
    expect(parseHexUid('AB'.repeat(20))).toEqual(card('AB'.repeat(20)));
    expect(parseHexUid('04:A1:B2:C3:')).toMatchObject({ ok: false });
    expect(parseHexUid('0:4A1B2C3')).toMatchObject({ ok: false });
    expect(parseHexUid('')).toMatchObject({ ok: false });
  });
});

describe('dec', () => {
  it('reads the big-endian value, minimal bytes padded to 4', () => {
    expect(parseDecimalUid('0012345678')).toEqual(card('00BC614E'));
    expect(parseDecimalUid('4294967295')).toEqual(card('FFFFFFFF'));
    expect(parseDecimalUid('4294967296')).toEqual(card('0100000000'));
    expect(parseDecimalUid('1')).toEqual(card('00000001'));
    // a 7-byte NXP UID 04A1B2C3D4E5F6 printed in decimal round-trips exactly
    expect(parseDecimalUid(BigInt('0x04A1B2C3D4E5F6').toString())).toEqual(card('04A1B2C3D4E5F6'));
  });
  it('rejects zero, non-digits and values over 20 bytes', () => {
    expect(parseDecimalUid('0000000000')).toEqual({ ok: false, reason: 'bad dec: zero' });
    expect(parseDecimalUid('12 34')).toEqual({ ok: false, reason: 'bad dec: not decimal digits' });
    expect(parseDecimalUid('-1')).toMatchObject({ ok: false });
    expect(parseDecimalUid((2n ** 160n).toString())).toEqual({ ok: false, reason: 'bad dec: value over 20 bytes' });
    expect(parseDecimalUid((2n ** 160n - 1n).toString())).toEqual(card('FF'.repeat(20)));
  });
});

describe('wiegand26', () => {
  it('reads FFF:CCCCC and FFF,CCCCC as facility|card hi|card lo', () => {
    expect(parseWiegand26('123:45678')).toEqual(card('7BB26E'));
    expect(parseWiegand26('123,45678')).toEqual(card('7BB26E'));
    expect(parseWiegand26('0:1')).toEqual(card('000001'));
    expect(parseWiegand26('255:65535')).toEqual(card('FFFFFF'));
  });
  it('rejects out-of-range facility or card', () => {
    expect(parseWiegand26('256:1')).toEqual({ ok: false, reason: 'bad wiegand26: facility over 255' });
    expect(parseWiegand26('1:65536')).toEqual({ ok: false, reason: 'bad wiegand26: card number over 65535' });
    expect(parseWiegand26('12;34')).toMatchObject({ ok: false });
  });
  it('reads 26 raw bits with both parities checked', () => {
    // facility 123 = 01111011, card 45678 = 1011001001101110
    const data = '01111011' + '1011001001101110';
    const even = [...data.slice(0, 12)].filter((c) => c === '1').length % 2; // makes bits 0..12 even
    const odd = 1 - ([...data.slice(12)].filter((c) => c === '1').length % 2); // makes bits 13..25 odd
    const frame = `${even}${data}${odd}`;
    expect(parseWiegand26(frame)).toEqual(card('7BB26E'));
    const flipFirst = `${1 - even}${data}${odd}`;
    expect(parseWiegand26(flipFirst)).toEqual({ ok: false, reason: 'bad wiegand26: even parity failed' });
    const flipLast = `${even}${data}${1 - odd}`;
    expect(parseWiegand26(flipLast)).toEqual({ ok: false, reason: 'bad wiegand26: odd parity failed' });
    expect(parseWiegand26(frame.slice(1))).toMatchObject({ ok: false });
  });
});

describe('id', () => {
  it('accepts 17 digits + digit or X/x, as read', () => {
    expect(parseResidentId('11010519491231002X')).toEqual({ ok: true, cred: { kind: 'id', number: '11010519491231002X' } });
    expect(parseResidentId('11010519491231002x')).toEqual({ ok: true, cred: { kind: 'id', number: '11010519491231002x' } });
    expect(parseResidentId('110105194912310021')).toMatchObject({ ok: true });
  });
  it('rejects other shapes without echoing the input', () => {
    for (const bad of ['1101051949123100', '11010519491231002Y', '1101051949123100211', 'X10105194912310021']) {
      const r = parseResidentId(bad);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).not.toContain('1101');
    }
  });
});

describe('qr', () => {
  it('accepts GP1 tokens, also long ones', () => {
    const token = `GP1.${'a'.repeat(3000)}.${'B-_9'.repeat(22)}`;
    expect(parseQrPass(token)).toEqual({ ok: true, cred: { kind: 'pass', token } });
  });
  it('rejects other prefixes and malformed tokens', () => {
    expect(parseQrPass('GP2.abc.def')).toEqual({ ok: false, reason: 'bad qr: not a GP1 pass' });
    expect(parseQrPass('GP1.abc')).toEqual({ ok: false, reason: 'bad qr: malformed GP1 token' });
    expect(parseQrPass('GP1.a+b.c/d')).toMatchObject({ ok: false });
  });
});

describe('auto (sim reader)', () => {
  it('detects id, pass and card', () => {
    expect(parseAuto('11010519491231002X')).toMatchObject({ ok: true, cred: { kind: 'id' } });
    // 18 digits are also valid hex: the ID shape wins
    expect(parseAuto('110105194912310021')).toMatchObject({ ok: true, cred: { kind: 'id' } });
    expect(parseAuto('GP1.abc.def')).toMatchObject({ ok: true, cred: { kind: 'pass', token: 'GP1.abc.def' } });
    expect(parseAuto('04:a1:b2:c3')).toEqual(card('04A1B2C3'));
  });
  it('rejects everything else', () => {
    expect(parseAuto('hello')).toMatchObject({ ok: false });
    expect(parseAuto('GP1.broken')).toEqual({ ok: false, reason: 'bad qr: malformed GP1 token' });
  });
});

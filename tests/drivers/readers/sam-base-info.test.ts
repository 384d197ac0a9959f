/**
 * The 256 bytes of base information: fixed UCS-2LE fields, surrogate pairs,
 * the full field width, 长期 validity, and fields that cannot be real.
 */
import { describe, expect, it } from 'vitest';
import { CARD_TYPE_OFFSET, encodeBaseAnswer, encodeBaseText, FIELDS, parseBaseAnswer, parseBaseText, type CardFields } from '../../../src/drivers/readers/sam/base-info.js';

const CARD: CardFields = {
  name: '张三', sex: '1', nation: '01', birthDate: '19491231', address: '北京市东城区景山前街4号',
  number: '11010519491231002X', authority: '北京市公安局东城分局', validFrom: '20200101', validTo: '20400101',
};

/** Field offsets from the widths, to build raw text by hand. */
function offsetOf(name: string): number {
  let at = 0;
  for (const [n, w] of FIELDS) {
    if (n === name) return at;
    at += w;
  }
  throw new Error(name);
}

describe('base information text', () => {
  it('field widths add up to 256 bytes', () => {
    expect(FIELDS.reduce((a, [, w]) => a + w, 0)).toBe(256);
    expect(offsetOf('number')).toBe(122);
  });

  it('parses the fields, trims the space padding, dates as YYYY-MM-DD', () => {
    const r = parseBaseAnswer(encodeBaseAnswer(CARD));
    expect(r).toEqual({
      ok: true,
      text: {
        name: '张三', sex: '1', nation: '01', birthDate: '1949-12-31', address: '北京市东城区景山前街4号',
        number: '11010519491231002X', authority: '北京市公安局东城分局', validFrom: '2020-01-01', validTo: '2040-01-01',
      },
    });
  });

  it('the number sits at bytes 122..157 as UCS-2LE ("1" = 31 00)', () => {
    const text = encodeBaseText(CARD);
    expect(text.subarray(122, 126)).toEqual(Buffer.from([0x31, 0x00, 0x31, 0x00]));
    expect(text.subarray(122, 158).toString('utf16le')).toBe('11010519491231002X');
  });

  it('reads the card-type mark: blank and J (residence permit) are resident-card layouts; I and unknown marks are refused', () => {
    const marked = (mark: string, card: CardFields = CARD) => {
      const text = encodeBaseText(card);
      text.writeUInt16LE(mark.charCodeAt(0), CARD_TYPE_OFFSET);
      return text;
    };
    // the 2017 foreign card's fields before its mark: English name, sex, number, nationality, Chinese name,
    // issued, expires, born, card version, authority code
    expect(CARD_TYPE_OFFSET).toBe(120 + 2 + 30 + 6 + 30 + 16 + 16 + 16 + 4 + 8);
    expect(CARD_TYPE_OFFSET).toBeGreaterThan(offsetOf('reserved')); // inside the resident card's reserved area
    expect(parseBaseText(marked(' ')).ok).toBe(true);
    const permit = parseBaseText(marked('J', { ...CARD, number: '810000199001011232' }));
    expect(permit.ok && permit.text.number).toBe('810000199001011232');
    const noNation = parseBaseText(marked('J', { ...CARD, number: '810000199001011232', nation: '' }));
    expect(noNation.ok && noNation.text.nation).toBe(''); // a residence permit has no nation field
    expect(parseBaseText(marked(' ', { ...CARD, nation: '' }))).toEqual({ ok: false, reason: 'sam: base info field nation: expected two digits' });
    expect(parseBaseText(marked('I'))).toEqual({ ok: false, reason: 'sam: a foreign permanent resident ID card (2017 layout): not supported' });
    expect(parseBaseText(marked('Y'))).toEqual({ ok: false, reason: "sam: card type 'Y': not a resident ID card layout this reader knows" });
    expect(parseBaseText(marked('\u4e00'))).toMatchObject({ ok: false, reason: expect.stringContaining('card type 0x4e00') });
  });

  it('keeps a name with characters outside the BMP (surrogate pairs) whole', () => {
    const name = '𠀀𪚥王'; // U+20000, U+2A6A5: two units each
    const r = parseBaseText(encodeBaseText({ ...CARD, name }));
    expect(r.ok && r.text.name).toBe(name);
    expect(r.ok && [...r.text.name]).toHaveLength(3);
  });

  it('reads a name that fills the whole 15-character field (no padding left)', () => {
    const name = '阿卜杜热合曼·买买提艾力江'.padEnd(15, '木').slice(0, 15);
    expect(name.length).toBe(15);
    const r = parseBaseText(encodeBaseText({ ...CARD, name }));
    expect(r.ok && r.text.name).toBe(name);
    expect(() => encodeBaseText({ ...CARD, name: name + '木' })).toThrow(/name/);
  });

  it('a full-width field ending in half a surrogate pair is refused, not cut', () => {
    const text = encodeBaseText({ ...CARD, name: '王'.repeat(14) });
    text.writeUInt16LE(0xd840, 28); // high surrogate in the last unit; its pair would be outside the field
    expect(parseBaseText(text)).toEqual({ ok: false, reason: 'sam: base info field name: not valid UCS-2 text' });
    const lone = encodeBaseText(CARD);
    lone.writeUInt16LE(0xdc00, 0);
    expect(parseBaseText(lone).ok).toBe(false);
  });

  it('长期 (long-term) validity', () => {
    const r = parseBaseText(encodeBaseText({ ...CARD, validTo: '长期' }));
    expect(r.ok && r.text.validTo).toBe('long-term');
  });

  it('refuses values that cannot be on a card', () => {
    expect(parseBaseText(encodeBaseText({ ...CARD, number: '1101051949123100' })).ok).toBe(false);
    expect(parseBaseText(encodeBaseText({ ...CARD, validTo: '20230230' }))).toEqual({ ok: false, reason: 'sam: base info field validTo: not a date or 长期' });
    expect(parseBaseText(encodeBaseText({ ...CARD, sex: '3' })).ok).toBe(false);
    expect(parseBaseText(encodeBaseText({ ...CARD, name: '' })).ok).toBe(false);
    const ctl = encodeBaseText(CARD);
    ctl.writeUInt16LE(0x0007, 2);
    expect(parseBaseText(ctl).ok).toBe(false);
  });

  it('a lower-case x check digit is read as X', () => {
    const r = parseBaseText(encodeBaseText({ ...CARD, number: '11010519491231002x' }));
    expect(r.ok && r.text.number).toBe('11010519491231002X');
  });

  it('refuses answers whose lengths disagree', () => {
    const a = encodeBaseAnswer(CARD);
    expect(parseBaseAnswer(a.subarray(0, a.length - 1)).ok).toBe(false);
    const b = Buffer.from(a);
    b.writeUInt16BE(255, 0);
    expect(parseBaseAnswer(b).ok).toBe(false);
    expect(parseBaseAnswer(Buffer.alloc(2)).ok).toBe(false);
  });

  it('reasons never carry the card data', () => {
    const r = parseBaseText(encodeBaseText({ ...CARD, validTo: '2040010x' }));
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toMatch(/11010519|张三|北京/);
  });
});

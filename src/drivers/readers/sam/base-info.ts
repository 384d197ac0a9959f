/**
 * The card's base information (读基本信息, command 30 01): the answer data is
 *
 *   text length (2 bytes, BE) | photo length (2 bytes, BE) | text | photo
 *
 * with 256 bytes of text and 1024 bytes of photo. The text is UCS-2
 * little-endian (UTF-16LE here, so characters outside the BMP arrive as
 * surrogate pairs) in fixed-width fields padded with spaces:
 *
 *   name 30 · sex 2 · nation 4 · birth date 16 · address 70 · ID number 36 ·
 *   issuing authority 30 · valid from 16 · valid to 16 (or 长期) · reserved 36
 *
 * The photo is WLT, a compressed format only the vendor's closed library
 * decodes: it is skipped here, never kept.
 *
 * A field is refused rather than guessed at when it cannot be what the card
 * holds: a surrogate half (a pair cut by the field boundary), a control
 * character, an ID number not shaped as 17 digits and a digit or X, a date
 * that is not a calendar day. The number's check digit is the caller's to
 * verify (the controller denies a bad one as INVALID_FORMAT).
 */
import { BASE_PHOTO_BYTES, BASE_TEXT_BYTES } from './protocol.js';

/** Field widths in bytes, in card order. */
export const FIELDS = [
  ['name', 30],
  ['sex', 2],
  ['nation', 4],
  ['birthDate', 16],
  ['address', 70],
  ['number', 36],
  ['authority', 30],
  ['validFrom', 16],
  ['validTo', 16],
  ['reserved', 36],
] as const;
export type FieldName = (typeof FIELDS)[number][0];

/** What validTo holds on a long-term card. */
export const LONG_TERM = '长期';

export interface IdCardText {
  name: string;
  /** GB/T 2261.1 code: '1' male, '2' female (kept as read). */
  sex: string;
  /** GB 3304 nationality code, two digits; empty on a residence permit (it has none). */
  nation: string;
  /** YYYY-MM-DD */
  birthDate: string;
  address: string;
  /** 17 digits and a digit or X (check digit not verified here). */
  number: string;
  authority: string;
  /** YYYY-MM-DD */
  validFrom: string;
  /** YYYY-MM-DD, or 'long-term' for a 长期 card. */
  validTo: string;
}

export type BaseInfoResult = { ok: true; text: IdCardText } | { ok: false; reason: string };

const ID_SHAPE = /^[0-9]{17}[0-9X]$/;

function fail(reason: string): BaseInfoResult {
  return { ok: false, reason: `sam: base info ${reason}` };
}

/** Parse the read-base answer data (after SW1 SW2 SW3). */
export function parseBaseAnswer(data: Buffer): BaseInfoResult {
  if (data.length < 4) return fail('answer too short');
  const textLen = data.readUInt16BE(0);
  const photoLen = data.readUInt16BE(2);
  if (textLen !== BASE_TEXT_BYTES) return fail(`text length ${textLen}, expected ${BASE_TEXT_BYTES}`);
  if (data.length !== 4 + textLen + photoLen) return fail('answer length does not match its text and photo lengths');
  return parseBaseText(data.subarray(4, 4 + textLen));
}

/**
 * Byte offset of the card-type mark (证件类型标识, one UCS-2 letter) that the
 * other documents made to this chip standard carry in what is the resident
 * card's reserved area. A resident ID card leaves it blank; a Hong Kong,
 * Macao or Taiwan residence permit ('J') has the resident card's own field
 * layout; the 2017 foreign permanent resident card ('I') lays its fields out
 * differently (English name 120 bytes first, a 15-character number), and any
 * other mark is a layout this driver does not know: both are refused with a
 * reason rather than read as resident-card fields they are not.
 */
export const CARD_TYPE_OFFSET = 248;
const CARD_TYPES: Record<string, string | undefined> = {
  ' ': undefined,
  '\0': undefined,
  J: undefined,
  I: 'a foreign permanent resident ID card (2017 layout): not supported',
};

export function parseBaseText(text: Buffer): BaseInfoResult {
  if (text.length !== BASE_TEXT_BYTES) return fail(`text of ${text.length} bytes`);
  const mark = String.fromCharCode(text.readUInt16LE(CARD_TYPE_OFFSET));
  if (!(mark in CARD_TYPES)) {
    const shown = /^[\x21-\x7e]$/.test(mark) ? `'${mark}'` : `0x${mark.charCodeAt(0).toString(16)}`;
    return { ok: false, reason: `sam: card type ${shown}: not a resident ID card layout this reader knows` };
  }
  const unsupported = CARD_TYPES[mark];
  if (unsupported) return { ok: false, reason: `sam: ${unsupported}` };
  const raw = {} as Record<FieldName, string>;
  let at = 0;
  for (const [name, width] of FIELDS) {
    const s = decodeField(text.subarray(at, at + width));
    if (s === undefined) return fail(`field ${name}: not valid UCS-2 text`);
    raw[name] = s;
    at += width;
  }
  if (!raw.name) return fail('field name: empty');
  if (!/^[12]$/.test(raw.sex)) return fail('field sex: expected 1 or 2');
  const permit = mark === 'J';
  if (!(permit ? /^([0-9]{2})?$/ : /^[0-9]{2}$/).test(raw.nation)) return fail('field nation: expected two digits');
  const number = raw.number.replace(/x$/, 'X');
  if (!ID_SHAPE.test(number)) return fail('field number: expected 17 digits and a digit or X');
  const birthDate = isoDay(raw.birthDate);
  if (!birthDate) return fail('field birthDate: not a date');
  const validFrom = isoDay(raw.validFrom);
  if (!validFrom) return fail('field validFrom: not a date');
  const validTo = raw.validTo === LONG_TERM ? 'long-term' : isoDay(raw.validTo);
  if (!validTo) return fail('field validTo: not a date or 长期');
  return {
    ok: true,
    text: { name: raw.name, sex: raw.sex, nation: raw.nation, birthDate, address: raw.address, number, authority: raw.authority, validFrom, validTo },
  };
}

/** UTF-16LE, trailing space/NUL padding removed; undefined when a surrogate is unpaired or a control character appears. */
function decodeField(bytes: Buffer): string | undefined {
  const units: number[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) units.push(bytes.readUInt16LE(i));
  let end = units.length;
  while (end > 0 && (units[end - 1] === 0x20 || units[end - 1] === 0)) end--;
  for (let i = 0; i < end; i++) {
    const u = units[i]!;
    if (u >= 0xd800 && u <= 0xdbff) {
      const next = units[i + 1];
      if (i + 1 >= end || next === undefined || next < 0xdc00 || next > 0xdfff) return undefined;
      i++;
      continue;
    }
    if (u >= 0xdc00 && u <= 0xdfff) return undefined;
    if (u < 0x20 || (u >= 0x7f && u < 0xa0)) return undefined;
  }
  return String.fromCharCode(...units.slice(0, end));
}

function isoDay(s: string): string | undefined {
  const m = /^([0-9]{4})([0-9]{2})([0-9]{2})$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return undefined;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** What a card holds, for the simulated module: dates as YYYYMMDD, validTo may be 长期. */
export type CardFields = Record<Exclude<FieldName, 'reserved'>, string>;

/** Encode the 256 text bytes the way a card holds them (space-padded UTF-16LE); throws when a value is wider than its field. */
export function encodeBaseText(card: CardFields): Buffer {
  const out = Buffer.alloc(BASE_TEXT_BYTES);
  let at = 0;
  for (const [name, width] of FIELDS) {
    const value = name === 'reserved' ? '' : card[name];
    const bytes = Buffer.from(value, 'utf16le');
    if (bytes.length > width) throw new RangeError(`${name}: ${bytes.length} bytes, field holds ${width}`);
    bytes.copy(out, at);
    for (let i = at + bytes.length; i < at + width; i += 2) out.writeUInt16LE(0x20, i);
    at += width;
  }
  return out;
}

/** The read-base answer data for a card: lengths, text, and a photo placeholder of the real size. */
export function encodeBaseAnswer(card: CardFields, photo: Buffer = Buffer.alloc(BASE_PHOTO_BYTES)): Buffer {
  const text = encodeBaseText(card);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(text.length, 0);
  head.writeUInt16BE(photo.length, 2);
  return Buffer.concat([head, text, photo]);
}

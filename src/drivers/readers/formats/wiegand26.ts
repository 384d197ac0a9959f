/**
 * `wiegand26` format: the standard 26-bit Wiegand frame (H10301), printed by
 * Wiegand-to-serial converters either as "FFF:CCCCC" / "FFF,CCCCC" (facility
 * 0..255, card number 0..65535, decimal) or as the 26 raw bits ("0101…").
 *
 * The UID is the 24 data bits as 3 bytes, facility | card high | card low,
 * in hex ("123:45678" → 7BB26E). Raw bits are checked: bit 0 is even parity
 * over bits 1..12, bit 25 is odd parity over bits 13..24.
 */
import { rejected, type ParseResult } from './result.js';

const PAIR = /^([0-9]{1,3})[:,]([0-9]{1,5})$/;
const BITS = /^[01]{26}$/;

export function parseWiegand26(line: string): ParseResult {
  const text = line.trim();
  const pair = PAIR.exec(text);
  if (pair) {
    const facility = Number(pair[1]);
    const card = Number(pair[2]);
    if (facility > 255) return rejected('bad wiegand26: facility over 255');
    if (card > 65535) return rejected('bad wiegand26: card number over 65535');
    return { ok: true, cred: { kind: 'card', uid: toUid(facility, card) } };
  }
  if (BITS.test(text)) {
    const bits = [...text].map((c) => (c === '1' ? 1 : 0));
    const ones = (from: number, to: number) => bits.slice(from, to + 1).reduce<number>((a, b) => a + b, 0);
    // Leading parity bit makes bits 0..12 even; trailing one makes bits 13..25 odd.
    if (ones(0, 12) % 2 !== 0) return rejected('bad wiegand26: even parity failed');
    if (ones(13, 25) % 2 !== 1) return rejected('bad wiegand26: odd parity failed');
    const data = parseInt(text.slice(1, 25), 2);
    return { ok: true, cred: { kind: 'card', uid: toUid(data >>> 16, data & 0xffff) } };
  }
  return rejected('bad wiegand26: expected FFF:CCCCC or 26 bits');
}

function toUid(facility: number, card: number): string {
  return ((facility << 16) | card).toString(16).toUpperCase().padStart(6, '0');
}

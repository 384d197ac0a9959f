/** The journal's fast path for flat events must write exactly what RFC 8785 (the canonicalize package) writes. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/store/journal.js';

const reference = createRequire(import.meta.url)('canonicalize') as (v: unknown) => string;

const STRINGS = ['', 'a', 'Zhang San', '张三', 'line\nbreak', 'quote"back\\slash', '\u0000\u001f\u007f', '\ud83d\ude00', '\u2028\u2029', 'é', '€'];
const NUMBERS = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 123456789012345680000, 5e-324, 1.7976931348623157e308, 4.35, 2 ** 53, -(2 ** 31)];

function randomFlat(rand: () => number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = Math.floor(rand() * 8);
  for (let i = 0; i < n; i++) {
    const key = STRINGS[Math.floor(rand() * STRINGS.length)]! + (rand() < 0.5 ? String(i) : '');
    const pick = Math.floor(rand() * 4);
    o[key] = pick === 0 ? STRINGS[Math.floor(rand() * STRINGS.length)] : pick === 1 ? NUMBERS[Math.floor(rand() * NUMBERS.length)] : pick === 2 ? rand() < 0.5 : null;
  }
  return o;
}

describe('canonicalJson', () => {
  it('matches the RFC 8785 reference on 5,000 random flat objects', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 5000; i++) {
      const o = randomFlat(rand);
      expect(canonicalJson(o)).toBe(reference(o));
    }
  });

  it('sorts keys by UTF-16 code units, not by locale', () => {
    const o = { b: 1, a: 2, B: 3, é: 4, '€': 5, '\ud83d\ude00': 6, '\ue000': 7 };
    expect(canonicalJson(o)).toBe(reference(o));
  });

  it('leaves out undefined values and falls back to the reference for nested values', () => {
    expect(canonicalJson({ b: undefined, a: 1 })).toBe('{"a":1}');
    const nested = { z: [3, { y: 1, x: 2 }], a: { c: null, b: 'x' } };
    expect(canonicalJson(nested)).toBe(reference(nested));
  });

  it('refuses NaN and Infinity', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/not JSON/);
    expect(() => canonicalJson({ a: Infinity })).toThrow(/not JSON/);
  });
});

import { describe, expect, it } from 'vitest';
import { parseCsv } from '../src/cli/csv.js';
import { csvCell, csvLine } from '../src/csv.js';

describe('the CSV writer (admin export, gatectl logs)', () => {
  it('defuses every text cell a spreadsheet would run as a formula', () => {
    for (const s of ['=HYPERLINK("x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) {
      expect(csvCell(s).replace(/^"/, '').startsWith("'")).toBe(true);
    }
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a=b')).toBe('a=b');
  });

  it('writes numbers, booleans and absent values as they are, objects as JSON', () => {
    expect(csvLine([-1, 0, true, undefined, null, { a: 1 }])).toBe('-1,0,true,,,"{""a"":1}"');
  });

  it('quotes commas, quotes and line breaks, and reads back as written (RFC 4180)', () => {
    const cells = ['a,b', 'say "hi"', 'two\nlines', "it's"];
    expect(parseCsv(csvLine(cells))[0]!.fields).toEqual(cells);
    expect(parseCsv(csvLine(['=1+1']))[0]!.fields).toEqual(["'=1+1"]);
  });
});

import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/cli/csv.js';

describe('parseCsv', () => {
  it('keeps quoted commas, doubled quotes and line breaks, and the line each record starts on', () => {
    const text = '\ufeffa,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\nlines",z\n\n3,,\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, y', 'say "hi"'] },
      { line: 3, fields: ['2', 'two\nlines', 'z'] },
      { line: 6, fields: ['3', '', ''] },
    ]);
  });

  it('reads a last record without a final newline', () => {
    expect(parseCsv('a,b\n1,2')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
    ]);
  });

  it('names the line of an unclosed quote or garbage after a closing quote', () => {
    expect(() => parseCsv('a\n"open\n')).toThrow(expect.objectContaining({ code: 'CSV_SYNTAX', line: 2 }));
    expect(() => parseCsv('a\nb\n"x"y\n')).toThrow(expect.objectContaining({ code: 'CSV_SYNTAX', line: 3 }));
  });
});

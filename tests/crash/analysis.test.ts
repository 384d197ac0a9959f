/** The crash campaign's checks must be able to fail: fed synthetic traces, they flag what they exist for. */
import { describe, expect, it } from 'vitest';
import { onTransitions, parseTrace, restartsNotSafe, unmatchedPulses } from '../../bench/lib/crash-campaign.js';

describe('crash campaign analysis', () => {
  it('counts off→on transitions only', () => {
    const trace = [
      { t: 1, line: 'entry', active: false },
      { t: 2, line: 'entry', active: true },
      { t: 3, line: 'entry', active: true },
      { t: 4, line: 'green', active: true },
      { t: 5, line: 'entry', active: false },
      { t: 6, line: 'entry', active: true },
    ];
    expect(onTransitions(trace, 'entry')).toEqual([2, 6]);
  });

  it('flags a pulse with no committed grant before it, and a grant used twice', () => {
    expect(unmatchedPulses([100, 300], [99, 298])).toBe(0);
    expect(unmatchedPulses([100], [101])).toBe(1); // relay moved before its commit
    expect(unmatchedPulses([100, 150], [99])).toBe(1); // two pulses, one grant
    expect(unmatchedPulses([5_000], [1_000])).toBe(1); // grant too long before
    expect(unmatchedPulses([], [1, 2, 3])).toBe(0); // grants whose relay never moved are safe
  });

  it('flags a restart whose first write energizes a line', () => {
    const trace = [
      { t: 10, line: 'entry', active: false },
      { t: 11, line: 'entry', active: true },
      { t: 20, line: 'entry', active: true },
      { t: 30, line: 'entry', active: false },
    ];
    expect(restartsNotSafe(trace, [10], ['entry'])).toBe(0);
    expect(restartsNotSafe(trace, [10, 15], ['entry'])).toBe(1);
  });

  it('reads a record a kill cut short, keeping it as a possible pulse', () => {
    const text =
      '{"t":1,"line":"entry","active":false}\n' +
      '{"t":2,"line":"entry","act' + // killed mid-write, between two pages
      '{"t":9,"line":"entry","active":false}\n' +
      '{"t":10,"line":"entry","active":true}\n' +
      '{"t":11,"li' + // torn before its line name: counted, not kept
      '{"t":20,"line":"entry","active":false}\n';
    const { records, torn } = parseTrace(text);
    expect(torn).toBe(2);
    expect(records.map((r) => [r.t, r.active])).toEqual([
      [1, false],
      [2, true],
      [9, false],
      [10, true],
      [20, false],
    ]);
    expect(onTransitions(records, 'entry')).toEqual([2, 10]); // the torn one must have its grant
    expect(parseTrace('{"t":1,"line":"entry","active":true}\n').torn).toBe(0);
    expect(() => parseTrace('garbage\n')).toThrow(/not a trace record/);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { GENESIS_HASH, eventBody, hashBody } from '../../src/store/journal.js';
import type { JournalEvent } from '../../src/store/types.js';
import { advanceChain, GapFinder, type ChainLink, type GateRow } from '../../src/store/central/chain.js';
import { AckPacer, ACKS_PER_S, MAX_GAP_MS, MIN_GAP_MS } from '../../src/cli/central/ack-pacer.js';
import { storableText } from '../../src/cli/central/collector-rules.js';

function chain(n: number): JournalEvent[] {
  const out: JournalEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const ev = { type: 'access', seq, id: `e${seq}`, ts: '2026-12-05T00:00:00.000Z', gate: 'g1', prevHash: prev } as unknown as JournalEvent;
    ev.hash = hashBody(prev, eventBody(ev));
    prev = ev.hash;
    out.push(ev);
  }
  return out;
}

const row = (): GateRow => ({
  gate: 'g1', site: 's1', contiguous_seq: 0, verified_seq: 0, verified_hash: GENESIS_HASH, broken_seq: null, broken_reason: null, acked_seq: 0, max_seq: 0, last_event_at: null,
});
const stored = (evs: JournalEvent[]) => new Map<number, ChainLink>(evs.map((e) => [e.seq, { body: eventBody(e), hash: e.hash }]));
const parsed = (evs: JournalEvent[]) => new Map<number, ChainLink>(evs.map((e) => [e.seq, { body: eventBody(e), hash: e.hash, prevHash: e.prevHash }]));

describe('GapFinder (both collector stores)', () => {
  it('finds the ranges missing above the prefix across pages, and stops at the limit', () => {
    const f = new GapFinder(3, 10);
    expect(f.feed([{ seq: 4 }, { seq: 7 }])).toBe(7);
    expect(f.feed([{ seq: 8 }, { seq: 12 }])).toBe(12);
    expect(f.feed([])).toBeUndefined();
    expect(f.gaps).toEqual([{ from: 5, to: 6 }, { from: 9, to: 11 }]);
    const limited = new GapFinder(0, 1);
    expect(limited.feed([{ seq: 3 }, { seq: 6 }])).toBeUndefined();
    expect(limited.gaps).toEqual([{ from: 1, to: 2 }]);
  });
});

describe('advanceChain (both collector stores)', () => {
  it('moves the prefix and the verified seq together, stops at a gap, resumes from the returned state', () => {
    const evs = chain(6);
    const first = advanceChain(row(), stored([evs[0]!, evs[1]!, evs[3]!]));
    expect(first).toMatchObject({ moved: 2, state: { contiguous_seq: 2, verified_seq: 2, verified_hash: evs[1]!.hash, broken_seq: null } });
    const second = advanceChain(first.state, parsed(evs.slice(2)));
    expect(second).toMatchObject({ moved: 4, state: { contiguous_seq: 6, verified_seq: 6, verified_hash: evs[5]!.hash } });
    expect(second.broken).toBeUndefined();
  });

  it('breaks on a wrong prevHash or a changed body, read back (parsed body) or in hand (parsed event), and keeps moving the prefix', () => {
    const evs = chain(5);
    const tampered = { ...evs[2]!, personId: 'someone else' } as JournalEvent;
    for (const links of [stored, parsed]) {
      const w = advanceChain(row(), links([evs[0]!, evs[1]!, tampered, evs[3]!, evs[4]!]));
      expect(w.broken).toEqual({ seq: 3, problem: 'seq 3: hash does not match its content' });
      expect(w.state).toMatchObject({ contiguous_seq: 5, verified_seq: 2, broken_seq: 3, verified_hash: evs[1]!.hash });
    }
    const forged = { ...evs[1]!, prevHash: 'f'.repeat(64) } as JournalEvent;
    forged.hash = hashBody(GENESIS_HASH, eventBody(forged));
    for (const links of [stored, parsed]) {
      expect(advanceChain(row(), links([evs[0]!, forged])).broken).toEqual({ seq: 2, problem: 'seq 2: prevHash does not match the hash of seq 1' });
    }
    // The prevHash in hand is the one checked: a caller may not claim another than the body's.
    expect(advanceChain(row(), new Map([[1, { body: eventBody(evs[0]!), hash: evs[0]!.hash, prevHash: 'x' }]])).broken?.seq).toBe(1);
  });

  it('does not change the row it was given', () => {
    const r = row();
    advanceChain(r, stored(chain(3)));
    expect(r).toEqual(row());
  });
});

describe('AckPacer', () => {
  afterEach(() => vi.useRealTimers());

  it('acks a gate at once, then at most once per gap with the latest upTo', () => {
    vi.useFakeTimers();
    const sent: Array<[string, number]> = [];
    const p = new AckPacer((_s, g, u) => sent.push([g, u]), Date.now);
    p.ack('s', 'g1', 1);
    p.ack('s', 'g1', 2);
    p.ack('s', 'g1', 3);
    expect(sent).toEqual([['g1', 1]]);
    vi.advanceTimersByTime(MIN_GAP_MS);
    expect(sent).toEqual([['g1', 1], ['g1', 3]]);
    p.stop();
  });

  it('widens the gap with the number of gates so one collector signs about ACKS_PER_S acks a second', () => {
    vi.useFakeTimers();
    let sent = 0;
    const p = new AckPacer(() => sent++, Date.now);
    const gates = 2 * ACKS_PER_S;
    for (let t = 0; t < 10_000; t += 100) {
      for (let g = 0; g < gates; g++) p.ack('s', `g${g}`, t + 1);
      vi.advanceTimersByTime(100);
    }
    expect(p.gapMs).toBe(Math.min(MAX_GAP_MS, (gates * 1000) / ACKS_PER_S));
    // The last 5 s: about ACKS_PER_S a second (every gate once per gap), not 5 per gate a second.
    sent = 0;
    for (let t = 0; t < 5_000; t += 100) {
      for (let g = 0; g < gates; g++) p.ack('s', `g${g}`, 20_000 + t);
      vi.advanceTimersByTime(100);
    }
    expect(sent / 5).toBeGreaterThan(ACKS_PER_S * 0.8);
    expect(sent / 5).toBeLessThan(ACKS_PER_S * 1.3);
    p.stop();
  });
});

describe('storableText', () => {
  it('refuses NUL and lone surrogates, keeps any well-formed text', () => {
    expect(['e-1', 'été', '通行', '😀'].every(storableText)).toBe(true);
    expect(['a\u0000b', 'a\ud800b', 'a\udc00', '\ud83d'].some(storableText)).toBe(false);
  });
});

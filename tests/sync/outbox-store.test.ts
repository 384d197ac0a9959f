import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { Outbox } from '../../src/store/outbox.js';
import { SeenCommands } from '../../src/store/seen-commands.js';
import { RegistrationOutbox } from '../../src/store/registrations.js';

let store: Store;
afterEach(() => store?.close());

function open(): Store {
  store = openStore({ path: ':memory:', synchronous: 'normal', gateId: 'g1' });
  return store;
}

describe('Outbox', () => {
  it('counts pending from the acked cursor and only moves forward', () => {
    const s = open();
    const o = new Outbox(s.db, s.journal);
    expect(o.state()).toEqual({ ackedSeq: 0, lastSeq: 0, pending: 0, oldestSeq: null });
    for (let i = 0; i < 5; i++) s.journal.append({ type: 'startup' }, 1_700_000_000_000 + i);
    expect(o.state()).toMatchObject({ pending: 5, oldestSeq: 1 });
    expect(o.ack(3, 1)).toBe(3);
    expect(o.ack(2, 2)).toBeUndefined();
    expect(o.ack(99, 3)).toBe(5); // clamped to what exists
    expect(o.state()).toMatchObject({ ackedSeq: 5, pending: 0, oldestSeq: null });
    expect(new Outbox(s.db, s.journal).ackedSeq()).toBe(5); // persisted
  });
  it('reads unacked events in seq order', () => {
    const s = open();
    const o = new Outbox(s.db, s.journal);
    for (let i = 0; i < 10; i++) s.journal.append({ type: 'startup' }, 1_700_000_000_000 + i);
    o.ack(4, 1);
    expect(o.read(1, 3).map((e) => e.seq)).toEqual([5, 6, 7]);
    expect(o.read(9, 100).map((e) => e.seq)).toEqual([9, 10]);
  });
});

describe('SeenCommands', () => {
  it('accepts an id once and prunes long-expired ids', () => {
    const s = open();
    const seen = new SeenCommands(s.db);
    expect(seen.claim('c1', 1_000, 0)).toBe(true);
    expect(seen.claim('c1', 1_000, 0)).toBe(false);
    expect(seen.prune(1_000 + 24 * 3600_000 + 1)).toBe(1);
    expect(seen.has('c1')).toBe(false);
  });
});

describe('RegistrationOutbox', () => {
  it('keeps registrations oldest first until acked, and drops a purged person', () => {
    const s = open();
    let now = 1;
    const r = new RegistrationOutbox(s.db, () => now++);
    const reg = (id: string, pid: string) => ({
      id, person: { id: pid, kind: 'visitor' as const, name: 'V' }, registeredAt: '2026-11-23T10:00:00.000+08:00', operator: 'guard1',
      credential: { key: `pass:${id}`, personId: pid, status: 'active' as const },
    });
    r.add(reg('r1', 'p1'));
    r.add(reg('r2', 'p2'));
    r.add(reg('r3', 'p2'));
    expect(r.pending().map((p) => p.registration.id)).toEqual(['r1', 'r2', 'r3']);
    expect(r.ack('r1')).toBe(true);
    expect(r.ack('r1')).toBe(false);
    expect(r.removePerson('p2')).toBe(2);
    expect(r.count()).toBe(0);
    expect(() => r.add({} as never)).toThrow(expect.objectContaining({ code: 'BAD_EVENT' }));
  });
});

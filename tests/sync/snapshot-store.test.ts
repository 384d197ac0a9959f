import { afterEach, describe, expect, it } from 'vitest';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openStore, type Store } from '../../src/store/index.js';
import { SnapshotApplier, storeSnapshotChunks, type SnapshotChunk } from '../../src/store/snapshot.js';
import { SnapshotChunks } from '../../src/store/snapshot-chunks.js';
import type { Credential, Person } from '../../src/store/types.js';

let store: Store;
afterEach(() => store?.close());
const NOW = Date.parse('2026-11-23T10:00:00+08:00');

/** The chunks stored as the sync stores them (their JSON text), named as the apply's source. */
const source = (version: number, chunks: SnapshotChunk[]) => storeSnapshotChunks(store.db, version, chunks);

function people(n: number, prefix = 'p'): { people: Person[]; credentials: Credential[] } {
  const ps: Person[] = [];
  const cs: Credential[] = [];
  for (let i = 0; i < n; i++) {
    ps.push({ id: `${prefix}${i}`, kind: 'staff', name: `Name ${i}` });
    cs.push({ key: `card:${prefix.toUpperCase()}${i.toString(16).toUpperCase()}`, personId: `${prefix}${i}`, status: 'active', scheduleId: 'day' });
  }
  return { people: ps, credentials: cs };
}

const day = { id: 'day', windows: [{ days: [1, 2, 3, 4, 5], from: '08:00', to: '18:00' }], holidays: [] };

describe('SnapshotApplier', () => {
  it('swaps in a new whitelist, keeps valid local visitors, and serves lookups after the rename', async () => {
    store = openStore({ path: ':memory:', synchronous: 'normal', gateId: 'g1' });
    const wl = store.whitelist;
    wl.replaceAll(1, { ...people(3, 'old'), schedules: [{ ...day, windows: [] }] }, { nowMs: NOW });
    wl.upsert({ people: [{ id: 'v1', kind: 'visitor', name: 'Visitor' }], credentials: [{ key: 'pass:v1', personId: 'v1', status: 'active', validTo: '2026-11-24T00:00:00+08:00' }] }, 'local');
    wl.upsert({ people: [{ id: 'v2', kind: 'visitor', name: 'Gone' }], credentials: [{ key: 'pass:v2', personId: 'v2', status: 'active', validTo: '2026-11-22T00:00:00+08:00' }] }, 'local');
    expect(wl.schedule('day')?.windows).toEqual([]); // cached
    const data = people(1000);
    const chunks = [0, 1, 2, 3].map((i) => ({
      people: data.people.slice(i * 250, (i + 1) * 250),
      // credentials of chunk 0's people arrive in chunk 3: the two passes must cope
      credentials: data.credentials.slice(((i + 3) % 4) * 250, (((i + 3) % 4) + 1) * 250),
      schedules: i === 0 ? [day] : [],
    }));
    const applier = new SnapshotApplier(store.db, wl);
    const counts = await applier.apply(5, source(5, chunks), { nowMs: NOW });
    expect(counts).toEqual({ people: 1000, credentials: 1000, schedules: 1, keptLocal: 1 });
    expect(wl.version()).toBe(5);
    expect(wl.lookup('card:P3E7')).toMatchObject({ personId: 'p999', origin: 'central' });
    expect(wl.lookup('card:OLD0')).toBeUndefined();
    expect(wl.lookup('pass:v1')).toMatchObject({ personId: 'v1', origin: 'local' });
    expect(wl.lookup('pass:v2')).toBeUndefined();
    expect(wl.schedule('day')?.windows).toHaveLength(1); // cache invalidated
    const leftovers = store.db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'wl_%'").pluck().all();
    expect(leftovers).toEqual([]);
    // the cascade still works on the swapped tables
    wl.remove({ people: ['p1'] });
    expect(wl.lookup('card:P1')).toBeUndefined();
    // and a second snapshot swaps again (index names must not collide)
    await applier.apply(6, source(6, [{ ...people(2, 'q'), schedules: [] }]), { nowMs: NOW });
    expect(wl.lookup('card:Q1')).toMatchObject({ personId: 'q1' });
    expect(wl.lookup('card:P3E7')).toBeUndefined();
    expect(wl.lookup('pass:v1')).toBeDefined();
    const idx = store.db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'credentials' AND sql IS NOT NULL").pluck().get();
    expect(idx).toBe(1);
  });

  it('central wins over a local visitor with the same person id or credential key', async () => {
    store = openStore({ path: ':memory:', synchronous: 'normal', gateId: 'g1' });
    const wl = store.whitelist;
    wl.upsert({ people: [{ id: 'v1', kind: 'visitor', name: 'Local' }], credentials: [{ key: 'pass:v1', personId: 'v1', status: 'active' }, { key: 'pass:v1b', personId: 'v1', status: 'active' }] }, 'local');
    await new SnapshotApplier(store.db, wl).apply(2, source(2, [{
      people: [{ id: 'v1', kind: 'visitor', name: 'Central' }], credentials: [{ key: 'pass:v1', personId: 'v1', status: 'suspended' }], schedules: [],
    }]), { nowMs: NOW });
    expect(wl.lookup('pass:v1')).toMatchObject({ origin: 'central', status: 'suspended' });
    expect(wl.lookup('pass:v1b')).toBeUndefined();
  });

  it('puts the records of the stored chunk text in the tables exactly as a JSON.parse of it would (replaceAll)', async () => {
    const data: SnapshotChunk = {
      people: [
        { id: 'p1', kind: 'staff', name: '张三', escort: false },
        { id: 'v1', kind: 'visitor', name: 'Zoë "Q" \\ O\'Brien', hostId: 'p1', escort: true, photo: '/9j/4AAQ' },
        { id: 'v2', kind: 'visitor', name: 'Listed twice, first' },
        { id: 'v2', kind: 'contractor', name: 'Listed twice, last wins' },
      ],
      credentials: [
        { key: 'card:04A1B2C3', personId: 'p1', status: 'active' },
        { key: 'pass:abc', personId: 'v1', status: 'suspended', validFrom: '2026-11-23T08:00:00+08:00', validTo: '2026-11-23T18:00:00.250Z', maxEntries: 2, scheduleId: 'day' },
        { key: 'pass:v2', personId: 'v2', status: 'active', validFrom: '2026-11-23T08:00:00.123456+08:00', validTo: '2026-11-24T00:00Z' },
      ],
      schedules: [{ id: 'day', windows: [{ days: [1, 2, 3], from: '08:00', to: '18:00' }], holidays: ['2026-10-01'] }],
    };
    const parsed = JSON.parse(JSON.stringify(data)) as SnapshotChunk;
    const other = openStore({ path: ':memory:', synchronous: 'normal', gateId: 'g1' });
    try {
      other.whitelist.replaceAll(3, parsed, { nowMs: NOW });
      store = openStore({ path: ':memory:', synchronous: 'normal', gateId: 'g1' });
      const counts = await new SnapshotApplier(store.db, store.whitelist).apply(3, source(3, [data]), { nowMs: NOW });
      expect(counts).toEqual({ people: 4, credentials: 3, schedules: 1, keptLocal: 0 });
      for (const [t, k] of [['people', 'id'], ['credentials', 'key'], ['schedules', 'id']] as const) {
        const rows = (s: Store) => s.db.prepare(`SELECT * FROM ${t} ORDER BY ${k}`).all();
        expect(rows(store), t).toEqual(rows(other));
      }
      expect(store.whitelist.lookup('pass:abc')).toMatchObject({ validFrom: Date.parse('2026-11-23T08:00:00+08:00'), validTo: Date.parse('2026-11-23T18:00:00.250Z'), maxEntries: 2 });
    } finally {
      other.close();
    }
  });

  it('keeps chunk bodies given as UTF-8 bytes as TEXT, and gives the same bytes back', () => {
    store = openStore({ path: ':memory:', synchronous: 'normal', gateId: 'g1' });
    const chunks = new SnapshotChunks(store.db);
    const text = JSON.stringify({ people: [{ id: 'p1', kind: 'staff', name: '张三 \u2028 "q"' }] });
    const bytes = new TextEncoder().encode(text);
    chunks.put(4, 0, bytes);
    chunks.put(4, 1, bytes.subarray(0, 2)); // a view into a larger buffer stores only its own bytes
    const rows = store.db.prepare('SELECT idx, typeof(body) AS t, body FROM sync_wl_chunks WHERE version = 4 ORDER BY idx').all();
    expect(rows).toEqual([{ idx: 0, t: 'text', body: text }, { idx: 1, t: 'text', body: text.slice(0, 2) }]);
    expect(chunks.body(4, 0)).toEqual(Buffer.from(bytes));
    expect(chunks.body(4, 2)).toBeUndefined();
  });

  it('refuses a credential validity that is not a time, naming it, and leaves the live whitelist untouched', async () => {
    store = openStore({ path: ':memory:', synchronous: 'normal', gateId: 'g1' });
    const wl = store.whitelist;
    wl.replaceAll(1, { ...people(2, 'old'), schedules: [day] }, { nowMs: NOW });
    const bad = { ...people(3), schedules: [day] };
    bad.credentials[1] = { ...bad.credentials[1]!, validTo: 'next tuesday' };
    await expect(new SnapshotApplier(store.db, wl).apply(2, source(2, [bad]), { nowMs: NOW })).rejects.toMatchObject({
      code: 'BAD_WHITELIST',
      message: expect.stringContaining('"next tuesday"'),
    });
    expect(wl.version()).toBe(1);
    expect(wl.lookup('card:OLD1')).toBeDefined();
    expect(wl.lookup('card:P0')).toBeUndefined();
    expect(store.db.prepare("SELECT count(*) FROM sqlite_master WHERE name LIKE 'wl_%'").pluck().get()).toBe(0);
  });

  it('rejects a snapshot with a credential of an unknown person and leaves the live whitelist untouched', async () => {
    store = openStore({ path: ':memory:', synchronous: 'normal', gateId: 'g1' });
    const wl = store.whitelist;
    wl.replaceAll(3, { ...people(5), schedules: [] }, { nowMs: NOW });
    const bad = { ...people(10, 'n'), schedules: [] };
    bad.credentials.push({ key: 'card:DEAD', personId: 'nobody', status: 'active' });
    await expect(new SnapshotApplier(store.db, wl).apply(4, source(4, [bad]), { nowMs: NOW })).rejects.toMatchObject({ code: 'BAD_WHITELIST' });
    expect(wl.version()).toBe(3);
    expect(wl.lookup('card:P4')).toBeDefined();
    expect(wl.lookup('card:N1')).toBeUndefined();
    expect(store.db.prepare("SELECT count(*) FROM sqlite_master WHERE name LIKE 'wl_%'").pluck().get()).toBe(0);
  });

  it('keeps the event loop responsive while applying 200k credentials', async () => {
    store = openStore({ path: ':memory:', synchronous: 'normal', gateId: 'g1' });
    const data = people(200_000);
    const chunks: SnapshotChunk[] = [];
    for (let i = 0; i < 200_000; i += 1_000) {
      chunks.push({ people: data.people.slice(i, i + 1_000), credentials: data.credentials.slice(i, i + 1_000), schedules: [] });
    }
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    let lookups = 0;
    const took: number[] = [];
    let running = true;
    let timer: NodeJS.Timeout | undefined;
    const probe = () => {
      const t0 = performance.now();
      store.whitelist.lookup('card:P10');
      took.push(performance.now() - t0);
      lookups++;
      if (running) timer = setTimeout(probe, 1);
    };
    probe();
    const t0 = performance.now();
    const counts = await new SnapshotApplier(store.db, store.whitelist)
      .apply(9, source(9, chunks), { nowMs: NOW })
      .finally(() => {
        running = false;
        clearTimeout(timer);
      });
    console.log(`200k apply ${(performance.now() - t0).toFixed(0)} ms, loop delay p99 ${(h.percentile(99) / 1e6).toFixed(1)} max ${(h.max / 1e6).toFixed(1)} ms, lookup max ${Math.max(...took).toFixed(2)} ms`);
    took.sort((a, b) => a - b);
    h.disable();
    expect(counts.credentials).toBe(200_000);
    expect(lookups).toBeGreaterThan(100);
    // p99, not max: a loaded 2-core CI box adds GC and scheduler pauses
    // that are not ours; bench/sync measures the 5 ms goal on 1M rows.
    expect(h.percentile(99) / 1e6).toBeLessThan(25);
    expect(took[Math.floor(took.length * 0.99)]!).toBeLessThan(5);
  }, 120_000);
});

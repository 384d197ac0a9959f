import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCollectorStore } from '../../src/store/central/collector-store.js';
import { openStore, type JournalEvent } from '../../src/store/index.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { gatectl, tempDir } from './capture.js';

let postgres: Postgres;
const tmp = tempDir();
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  tmp.cleanup();
});

function gateEvents(gate: string, n: number): JournalEvent[] {
  const s = openStore({ path: ':memory:', synchronous: 'normal', gateId: gate });
  const out = Array.from({ length: n }, (_, i) => s.journal.append({ type: 'passage', direction: 'in', reader: 'entry' }, 1_700_000_000_000 + i * 1000));
  s.close();
  return out;
}

const status = (gate: string, site: string, over: object) => ({
  gate, site, online: true, mode: 'normal', version: '0.1.0', startedAt: '2026-12-04T08:00:00.000+08:00', ts: '2026-12-04T09:00:00.000+08:00',
  whitelistVersion: 5, outbox: { pending: 0, oldestSeq: null }, readers: [], clockSynced: true, passKey: 'x', ...over,
});

describe.each([
  ['sqlite', async (name: string) => join(tmp.dir, `${name}.db`)],
  ['postgres', async (name: string) => postgres.createDatabase(name)],
])('gatectl fleet on %s', (_kind, dbFor) => {
  it('one row per gate with its chain state; exit 3 names who needs attention, 0 when nobody does', async () => {
    const db = await dbFor('fleet');
    const store = await openCollectorStore(db);
    const now = Date.now();
    await store.ingest('s1', 'g1', gateEvents('g1', 5), now);
    await store.saveStatus('s1', 'g1', status('g1', 's1', {}), now);
    await store.ingest('s1', 'g2', gateEvents('g2', 3), now - 120_000);
    await store.saveStatus('s1', 'g2', status('g2', 's1', { whitelistVersion: 4, outbox: { pending: 2_000, oldestSeq: 4 }, clockSynced: false }), now);
    const evs = gateEvents('g3', 4);
    await store.ingest('s1', 'g3', [...evs.slice(0, 2), { ...evs[2]!, direction: 'out' }, evs[3]!], now);
    const offline = { gate: 'g3', site: 's1', online: false };
    await store.saveStatus('s1', 'g3', offline, now);
    const g4 = gateEvents('g4', 6);
    await store.ingest('s2', 'g4', g4.slice(4), now);
    await store.adoptCheckpoint('s2', 'g4', 4, g4[3]!.hash, now);
    await store.saveStatus('s2', 'g4', status('g4', 's2', { whitelistVersion: 9 }), now);
    await store.close();

    const json = await gatectl(['fleet', '--db', db, '--format', 'json']);
    expect(json.code).toBe(3);
    const rows = JSON.parse(json.out) as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.site, r.gate, r.online, r.chain, r.storedSeq, r.attention])).toEqual([
      ['s1', 'g1', true, 'ok', 5, []],
      ['s1', 'g2', true, 'ok', 3, ['backlog', 'whitelist behind']],
      ['s1', 'g3', false, 'broken at seq 3', 4, ['offline', 'broken chain']],
      ['s2', 'g4', true, 'purged before collected (seq 4)', 6, []],
    ]);
    expect(rows[1]).toMatchObject({ pending: 2_000, whitelistVersion: 4, clockSynced: false, mode: 'normal', version: '0.1.0' });
    expect(rows[1]!.lastEventAgeS).toBeGreaterThanOrEqual(119);

    const table = await gatectl(['fleet', '--db', db, '--sort', 'attention']);
    expect(table.code).toBe(3);
    const lines = table.out.trim().split('\n');
    expect(lines[0]).toMatch(/^SITE\s+GATE\s+ONLINE\s+MODE/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(['g2', 'g3', 'g1', 'g4']);
    const csv = await gatectl(['fleet', '--db', db, '--format', 'csv', '--sort', 'pending', '--desc']);
    expect(csv.out.trim().split('\n')[0]).toBe('site,gate,online,mode,version,whitelist,pending,last_event_age_s,clock_synced,chain,stored_seq,attention');
    expect(csv.out.trim().split('\n')[1]).toMatch(/^s1,g2,yes,normal,0\.1\.0,4,2000,\d+,no,ok,3,backlog; whitelist behind$/);
    // A higher threshold and the published version named: g2 is only behind on its whitelist.
    const relaxed = await gatectl(['fleet', '--db', db, '--format', 'json', '--backlog', '5000', '--whitelist-version', '4']);
    expect((JSON.parse(relaxed.out) as Array<{ gate: string; attention: string[] }>).find((r) => r.gate === 'g2')!.attention).toEqual([]);

    const fine = await dbFor('fleet_fine');
    const s2 = await openCollectorStore(fine);
    await s2.ingest('s1', 'g1', gateEvents('g1', 2), now);
    await s2.saveStatus('s1', 'g1', status('g1', 's1', {}), now);
    await s2.close();
    expect((await gatectl(['fleet', '--db', fine])).code).toBe(0);
    expect(await gatectl(['fleet', '--db', fine, '--format', 'xml'])).toMatchObject({ code: 2 });
    expect(await gatectl(['fleet', '--db', fine, '--sort', 'colour'])).toMatchObject({ code: 2 });
  });
});

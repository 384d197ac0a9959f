import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { main } from '../../src/cli/gatectl.js';
import { CentralStore } from '../../src/store/central/central.js';
import { openStore, type JournalEvent } from '../../src/store/index.js';
import { tempDir } from './capture.js';
import { until } from '../helpers/until.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function journalOf(gate: string, n: number): JournalEvent[] {
  const s = openStore({ path: ':memory:', synchronous: 'normal', gateId: gate });
  const out = Array.from({ length: n }, (_, i) => s.journal.append({ type: 'door_held', door: 'main' }, 1_800_000_000_000 + i));
  s.close();
  return out;
}

it('logs --follow prints events in seq order as the collector stores them, holding back past a gap', async () => {
  const db = join(tmp.dir, 'follow.db');
  const store = new CentralStore(db);
  const evs = journalOf('g1', 6);
  store.ingest('s1', 'g1', evs.slice(0, 2), 1);
  const lines: string[] = [];
  const abort = new AbortController();
  const done = main(['logs', '--gate', 'g1', '--db', db, '--follow'], { out: (t) => void lines.push(t), err: () => {}, signal: abort.signal });
  const seqs = () => lines.map((l) => (JSON.parse(l) as JournalEvent).seq);
  await until(() => lines.length === 2);
  store.ingest('s1', 'g1', evs.slice(3, 5), 2); // 3 is missing: 4 and 5 wait
  await new Promise((r) => setTimeout(r, 1_200));
  expect(seqs()).toEqual([1, 2]);
  store.ingest('s1', 'g1', [evs[2]!, evs[5]!], 3);
  await until(() => lines.length === 6);
  expect(seqs()).toEqual([1, 2, 3, 4, 5, 6]);
  abort.abort();
  expect(await done).toBe(0);
  store.close();
});

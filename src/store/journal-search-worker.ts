/**
 * Worker thread of JournalSearchWorker (journal-search.ts): runs the
 * statements JournalSearch builds (fixed SQL, bound parameters) on its own
 * read-only connection, one reply per request.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThisThread } from '../worker-priority.js';
import type { SearchWorkerData, SearchWorkerReply, SearchWorkerRequest } from './journal-search.js';
import Database from './sqlite-driver.js';

lowerThisThread();

const data = workerData as SearchWorkerData;
const port = parentPort!;
const reply = (m: SearchWorkerReply) => port.postMessage(m);
const messageOf = (err: unknown) => String((err as Error)?.message ?? err);

let opened: InstanceType<typeof Database>;
try {
  opened = new Database(data.path, { readonly: true, fileMustExist: true });
  opened.pragma('busy_timeout = 5000');
} catch (err) {
  reply({ id: 0, error: messageOf(err) });
  process.exit(1);
}
const db = opened;

const statements = new Map<string, ReturnType<typeof db.prepare>>();
port.on('message', (m: SearchWorkerRequest | 'stop') => {
  if (m === 'stop') {
    db.close();
    process.exit(0);
  }
  try {
    let st = statements.get(m.sql);
    if (!st) {
      st = db.prepare(m.sql);
      if (statements.size < 64) statements.set(m.sql, st);
    }
    reply({ id: m.id, rows: m.op === 'get' ? [st.get(m.params)] : st.all(m.params) });
  } catch (err) {
    reply({ id: m.id, error: messageOf(err) });
  }
});

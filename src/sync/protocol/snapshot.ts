/**
 * Build a whitelist snapshot as central publishes it: signed chunks and a
 * signed manifest whose sha256 covers the chunks' body strings in index
 * order. Used by gatectl and the tests; the gate side only verifies.
 */
import type { KeyObject } from 'node:crypto';
import { manifestHash, signEnvelope, type Envelope } from './envelope.js';
import type { CredentialMsg, ManifestMsg, PersonMsg, ScheduleMsg } from './schemas.js';

export interface SnapshotData {
  people: PersonMsg[];
  credentials: CredentialMsg[];
  schedules: ScheduleMsg[];
}

export interface SignedSnapshot {
  manifest: Envelope;
  manifestBody: ManifestMsg;
  chunks: Envelope[];
}

/**
 * Split into chunks of at most `perChunk` records (people, credentials and
 * schedules counted together; default 1000, ~100 KB): small enough that a
 * gate parses one inside a few milliseconds while it keeps deciding. Gates
 * fetch chunks by subscribing to a window of chunk topics at a time, so any
 * number of chunks works with mosquitto's max_queued_messages.
 */
export function buildSnapshot(
  version: number,
  data: SnapshotData,
  opts: { kid: string; key: KeyObject; perChunk?: number; createdAt?: string },
): SignedSnapshot {
  const per = Math.max(1, opts.perChunk ?? 1_000);
  const records: Array<['people' | 'credentials' | 'schedules', unknown]> = [
    ...data.schedules.map((s) => ['schedules', s] as ['schedules', unknown]),
    ...data.people.map((p) => ['people', p] as ['people', unknown]),
    ...data.credentials.map((c) => ['credentials', c] as ['credentials', unknown]),
  ];
  const chunks: Envelope[] = [];
  for (let i = 0, index = 0; i < records.length || index === 0; i += per, index++) {
    const body = { version, index, people: [] as unknown[], credentials: [] as unknown[], schedules: [] as unknown[] };
    for (const [kind, rec] of records.slice(i, i + per)) body[kind].push(rec);
    chunks.push(signEnvelope(body, opts.kid, opts.key));
    if (records.length === 0) break;
  }
  const manifestBody: ManifestMsg = {
    version,
    chunks: chunks.length,
    sha256: manifestHash(chunks.map((c) => c.body)),
    createdAt: opts.createdAt ?? new Date().toISOString(),
  };
  return { manifest: signEnvelope(manifestBody, opts.kid, opts.key), manifestBody, chunks };
}

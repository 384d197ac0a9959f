/**
 * Build a whitelist snapshot as central publishes it: signed chunks and a
 * signed manifest whose sha256 covers the chunks' body strings in index
 * order. Used by gatectl and the tests; the gate side only verifies.
 */
import type { KeyObject } from 'node:crypto';
import { envelopeBytes, manifestHash, signEnvelope, type Envelope } from './envelope.js';
import { CHUNK_TARGET_BYTES, DEFAULT_MAX_PAYLOAD_BYTES, MAX_PHOTO_CHARS } from './limits.js';
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

/** A record (or chunk) that cannot be published within the gates' payload limit. */
export class SnapshotTooLargeError extends Error {
  readonly code = 'CHUNK_TOO_LARGE';
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotTooLargeError';
  }
}

/** Bytes `text` takes once embedded as a JSON string (the envelope's body): quotes and backslashes double. */
function embeddedBytes(text: string): number {
  let n = Buffer.byteLength(text, 'utf8');
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) n++;
  }
  return n;
}

/** The chunk frame, kid and signature around the records (well over what they take). */
const FRAME_BYTES = 512;

/**
 * Split into chunks of at most `perChunk` records (people, credentials and
 * schedules counted together; default 1000, ~100 KB) and at most about
 * `targetBytes` (default CHUNK_TARGET_BYTES, 1 MiB: people with photos)
 * — a single larger record gets a chunk of its own: small enough that a
 * gate parses one inside a few milliseconds while it keeps deciding. Gates
 * fetch chunks by subscribing to a window of chunk topics at a time, so any
 * number of chunks works with mosquitto's max_queued_messages.
 *
 * Every signed chunk is then measured: one larger than `maxBytes` (default
 * DEFAULT_MAX_PAYLOAD_BYTES, what a gate accepts by default) throws
 * SnapshotTooLargeError naming the record, so nothing a gate would refuse
 * is ever published.
 */
export function buildSnapshot(
  version: number,
  data: SnapshotData,
  opts: { kid: string; key: KeyObject; perChunk?: number; createdAt?: string; targetBytes?: number; maxBytes?: number },
): SignedSnapshot {
  const per = Math.max(1, opts.perChunk ?? 1_000);
  const target = opts.targetBytes ?? CHUNK_TARGET_BYTES;
  const max = opts.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  type Kind = 'people' | 'credentials' | 'schedules';
  const records: Array<[Kind, unknown, string]> = [
    ...data.schedules.map((s) => ['schedules', s, s.id] as [Kind, unknown, string]),
    ...data.people.map((p) => ['people', p, p.id] as [Kind, unknown, string]),
    ...data.credentials.map((c) => ['credentials', c, c.personId] as [Kind, unknown, string]),
  ];
  const groups: Array<Array<[Kind, unknown, string]>> = [];
  let group: Array<[Kind, unknown, string]> = [];
  let bytes = FRAME_BYTES;
  for (const rec of records) {
    const size = embeddedBytes(JSON.stringify(rec[1])) + 1;
    if (group.length && (group.length >= per || bytes + size > target)) {
      groups.push(group);
      group = [];
      bytes = FRAME_BYTES;
    }
    group.push(rec);
    bytes += size;
  }
  if (group.length || groups.length === 0) groups.push(group);
  const chunks: Envelope[] = groups.map((g, index) => {
    const body = { version, index, people: [] as unknown[], credentials: [] as unknown[], schedules: [] as unknown[] };
    for (const [kind, rec] of g) body[kind].push(rec);
    const env = signEnvelope(body, opts.kid, opts.key);
    const size = envelopeBytes(env).length;
    if (size > max) {
      const [kind, , id] = g[0]!;
      const what = g.length === 1 ? `${kind} record "${id.slice(0, 64)}"` : `chunk ${index}`;
      throw new SnapshotTooLargeError(`${what} makes a chunk of ${size} bytes, more than the ${max} a gate accepts (mqtt.maxPayloadBytes); shrink it (a photo is at most ${MAX_PHOTO_CHARS} base64 characters)`);
    }
    return env;
  });
  const manifestBody: ManifestMsg = {
    version,
    chunks: chunks.length,
    sha256: manifestHash(chunks.map((c) => c.body)),
    createdAt: opts.createdAt ?? new Date().toISOString(),
  };
  return { manifest: signEnvelope(manifestBody, opts.kid, opts.key), manifestBody, chunks };
}

/**
 * Publishing a whitelist version: read the site's current retained snapshot
 * from the broker (central's source of truth), diff it against the new list,
 * then publish chunks (retained), the delta, and the manifest (retained) last
 * — a gate that sees the new manifest finds its chunks already in place, and
 * a gate that applied the delta finds the manifest's version equal to its own.
 */
import { createRequire } from 'node:module';
import type { MqttClient } from 'mqtt';
import { envelopeBytes, manifestHash, signEnvelope, type Envelope } from '../sync/protocol/envelope.js';
import { chunkSchema, manifestSchema, type DeltaMsg, type ManifestMsg } from '../sync/protocol/schemas.js';
import { buildSnapshot } from '../sync/protocol/snapshot.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../sync/protocol/limits.js';
import { siteTopics } from '../sync/protocol/topics.js';
import type { SigningKey } from './broker-options.js';
import type { WhitelistData } from './whitelist-file.js';

const canonicalize = createRequire(import.meta.url)('canonicalize') as (v: unknown) => string;

export interface CurrentSnapshot {
  version: number;
  /** The previous list, when its manifest and every chunk were read and the hash matched. */
  data?: WhitelistData;
  /** Why `data` is absent although a manifest exists. */
  problem?: string;
  /** A retained manifest exists but cannot be read: the current version is unknown. */
  unreadable?: boolean;
  /** Chunk count of the retained snapshot (its chunks beyond the new count get cleared). */
  oldChunks: number;
}

/** Chunk topics subscribed at once: mosquitto drops retained messages past max_queued_messages (1000). */
const CHUNK_WINDOW = 100;

function bodyOf(payload: Buffer): { body: unknown; text: string } | undefined {
  try {
    const env = JSON.parse(payload.toString('utf8')) as Envelope;
    return typeof env.body === 'string' ? { body: JSON.parse(env.body) as unknown, text: env.body } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Read the site's retained snapshot the way a gate does: the manifest first
 * (retained messages arrive right after SUBACK, so none within `quietMs`
 * means the site has none), then its chunks a window at a time.
 */
export async function readCurrentSnapshot(client: MqttClient, site: string, opts: { quietMs?: number; timeoutMs?: number } = {}): Promise<CurrentSnapshot> {
  const t = siteTopics(site);
  const inbox = new Map<string, Buffer>();
  let wake: () => void = () => {};
  const onMessage = (topic: string, payload: Buffer, packet: { retain?: boolean }) => {
    if (!packet.retain) return;
    inbox.set(topic, payload);
    wake();
  };
  const waitUntil = async (done: () => boolean, untilMs: number): Promise<boolean> => {
    while (!done() && Date.now() < untilMs) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    return done();
  };
  client.on('message', onMessage);
  try {
    await client.subscribeAsync(t.manifest, { qos: 1 });
    await waitUntil(() => inbox.has(t.manifest), Date.now() + (opts.quietMs ?? 1_500));
    await client.unsubscribeAsync(t.manifest);
    const raw = inbox.get(t.manifest);
    if (!raw || raw.length === 0) return { version: 0, oldChunks: 0 };
    const parsed = manifestSchema.safeParse(bodyOf(raw)?.body);
    if (!parsed.success) return { version: 0, oldChunks: 0, unreadable: true, problem: 'the retained manifest is unreadable' };
    const m = parsed.data;
    const base = { version: m.version, oldChunks: m.chunks };
    for (let from = 0; from < m.chunks; from += CHUNK_WINDOW) {
      const topics = Array.from({ length: Math.min(CHUNK_WINDOW, m.chunks - from) }, (_, k) => t.chunk(from + k));
      await client.subscribeAsync(topics, { qos: 1 });
      const all = await waitUntil(() => topics.every((x) => inbox.has(x)), Date.now() + (opts.timeoutMs ?? 10_000));
      await client.unsubscribeAsync(topics);
      if (!all) return { ...base, problem: `not every chunk of version ${m.version} is retained` };
    }
    const texts: string[] = [];
    const data: WhitelistData = { people: [], credentials: [], schedules: [] };
    for (let i = 0; i < m.chunks; i++) {
      const b = bodyOf(inbox.get(t.chunk(i))!);
      const c = chunkSchema.safeParse(b?.body);
      if (!b || !c.success || c.data.version !== m.version || c.data.index !== i) return { ...base, problem: `chunk ${i} is not chunk ${i} of version ${m.version}` };
      texts.push(b.text);
      data.people.push(...c.data.people);
      data.credentials.push(...c.data.credentials);
      data.schedules.push(...c.data.schedules);
    }
    if (manifestHash(texts) !== m.sha256) return { ...base, problem: 'the retained chunks do not match the manifest sha256' };
    return { ...base, data };
  } finally {
    client.removeListener('message', onMessage);
  }
}

/** What changed from `prev` to `next`, as a protocol delta. */
export function diffWhitelist(prev: WhitelistData, next: WhitelistData, version: number, baseVersion: number): DeltaMsg {
  const side = <T>(a: T[], b: T[], keyOf: (x: T) => string) => {
    const before = new Map(a.map((x) => [keyOf(x), canonicalize(x)]));
    const after = new Set<string>();
    const upsert: T[] = [];
    for (const x of b) {
      const k = keyOf(x);
      after.add(k);
      if (before.get(k) !== canonicalize(x)) upsert.push(x);
    }
    return { upsert, remove: [...before.keys()].filter((k) => !after.has(k)) };
  };
  const people = side(prev.people, next.people, (p) => p.id);
  const creds = side(prev.credentials, next.credentials, (c) => c.key);
  const scheds = side(prev.schedules, next.schedules, (s) => s.id);
  const delta: DeltaMsg = { version, baseVersion, upsert: {}, delete: {} };
  if (people.upsert.length) delta.upsert.people = people.upsert;
  if (creds.upsert.length) delta.upsert.credentials = creds.upsert;
  if (scheds.upsert.length) delta.upsert.schedules = scheds.upsert;
  if (people.remove.length) delta.delete.people = people.remove;
  if (creds.remove.length) delta.delete.credentials = creds.remove;
  if (scheds.remove.length) delta.delete.schedules = scheds.remove;
  return delta;
}

export function deltaSize(d: DeltaMsg): { upserts: number; deletes: number } {
  const n = (x?: unknown[]) => x?.length ?? 0;
  return {
    upserts: n(d.upsert.people) + n(d.upsert.credentials) + n(d.upsert.schedules),
    deletes: n(d.delete.people) + n(d.delete.credentials) + n(d.delete.schedules),
  };
}

export interface PublishPlan {
  site: string;
  version: number;
  data: WhitelistData;
  delta?: DeltaMsg;
  /** Chunk count of the old snapshot: its chunks past the new count are cleared. */
  oldChunks: number;
  perChunk?: number;
}

/** Publish with QoS 1 and wait for every PUBACK. Returns the number of chunks. */
export async function publishWhitelist(client: MqttClient, plan: PublishPlan, signer: SigningKey): Promise<{ chunks: number; deltaBytes: number }> {
  const t = siteTopics(plan.site);
  // Built (and every chunk measured against what a gate accepts) before anything is published.
  const snap = buildSnapshot(plan.version, plan.data, { kid: signer.kid, key: signer.key, ...(plan.perChunk ? { perChunk: plan.perChunk } : {}) });
  const deltaEnv = plan.delta ? envelopeBytes(signEnvelope(plan.delta, signer.kid, signer.key)) : undefined;
  // A delta larger than a gate accepts would only be refused: the snapshot alone carries the version.
  const delta = deltaEnv && deltaEnv.length <= DEFAULT_MAX_PAYLOAD_BYTES ? deltaEnv : undefined;
  const pending: Array<Promise<unknown>> = [];
  snap.chunks.forEach((c, i) => pending.push(client.publishAsync(t.chunk(i), envelopeBytes(c), { qos: 1, retain: true })));
  // An empty retained payload deletes the retained message (MQTT 5 §3.3.1.3).
  for (let i = snap.chunks.length; i < plan.oldChunks; i++) pending.push(client.publishAsync(t.chunk(i), Buffer.alloc(0), { qos: 1, retain: true }));
  await Promise.all(pending);
  let deltaBytes = 0;
  if (delta) {
    deltaBytes = delta.length;
    await client.publishAsync(t.delta, delta, { qos: 1 });
  }
  await client.publishAsync(t.manifest, envelopeBytes(snap.manifest), { qos: 1, retain: true });
  return { chunks: snap.chunks.length, deltaBytes };
}

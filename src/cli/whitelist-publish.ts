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
  /** Chunk topics holding a retained message (to clear those beyond the new count). */
  chunkIndexes: number[];
}

function bodyOf(payload: Buffer): { body: unknown; text: string } | undefined {
  try {
    const env = JSON.parse(payload.toString('utf8')) as Envelope;
    return typeof env.body === 'string' ? { body: JSON.parse(env.body) as unknown, text: env.body } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Retained messages arrive right after SUBACK; with no manifest within
 * `quietMs` the site has none. Once a manifest is seen, wait for its chunks.
 */
export async function readCurrentSnapshot(client: MqttClient, site: string, opts: { quietMs?: number; timeoutMs?: number } = {}): Promise<CurrentSnapshot> {
  const t = siteTopics(site);
  const chunkPrefix = t.chunkWildcard.slice(0, -1);
  let manifest: ManifestMsg | undefined;
  let manifestProblem: string | undefined;
  const chunks = new Map<number, { text: string; body: unknown }>();
  let wake: () => void = () => {};
  const onMessage = (topic: string, payload: Buffer, packet: { retain?: boolean }) => {
    if (!packet.retain || payload.length === 0) return;
    if (topic === t.manifest) {
      const b = bodyOf(payload);
      const m = b && manifestSchema.safeParse(b.body);
      if (m?.success) manifest = m.data;
      else manifestProblem = 'the retained manifest is unreadable';
    } else if (topic.startsWith(chunkPrefix)) {
      const i = Number(topic.slice(chunkPrefix.length));
      const b = bodyOf(payload);
      if (Number.isInteger(i) && b) chunks.set(i, b);
      else if (Number.isInteger(i)) chunks.set(i, { text: '', body: undefined });
    }
    wake();
  };
  client.on('message', onMessage);
  try {
    await client.subscribeAsync([t.manifest, t.chunkWildcard], { qos: 1 });
    const quietUntil = Date.now() + (opts.quietMs ?? 1_500);
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    const done = () => manifest !== undefined && allChunksOf(manifest, chunks);
    while (!done() && Date.now() < (manifest || manifestProblem ? deadline : quietUntil)) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    await client.unsubscribeAsync([t.manifest, t.chunkWildcard]);
  } finally {
    client.removeListener('message', onMessage);
  }
  const chunkIndexes = [...chunks.keys()].sort((a, b) => a - b);
  if (!manifest) return { version: 0, chunkIndexes, ...(manifestProblem ? { problem: manifestProblem } : {}) };
  if (!allChunksOf(manifest, chunks)) return { version: manifest.version, chunkIndexes, problem: `not every chunk of version ${manifest.version} is retained` };
  const texts = [...Array(manifest.chunks).keys()].map((i) => chunks.get(i)!.text);
  if (manifestHash(texts) !== manifest.sha256) return { version: manifest.version, chunkIndexes, problem: 'the retained chunks do not match the manifest sha256' };
  const data: WhitelistData = { people: [], credentials: [], schedules: [] };
  for (let i = 0; i < manifest.chunks; i++) {
    const c = chunkSchema.safeParse(chunks.get(i)!.body);
    if (!c.success) return { version: manifest.version, chunkIndexes, problem: `chunk ${i} does not match the chunk schema` };
    data.people.push(...c.data.people);
    data.credentials.push(...c.data.credentials);
    data.schedules.push(...c.data.schedules);
  }
  return { version: manifest.version, data, chunkIndexes };
}

function allChunksOf(m: ManifestMsg, chunks: Map<number, { body: unknown }>): boolean {
  for (let i = 0; i < m.chunks; i++) if ((chunks.get(i)?.body as { version?: number } | undefined)?.version !== m.version) return false;
  return true;
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
  /** Retained chunk topics of the old snapshot to clear when the new one has fewer chunks. */
  oldChunkIndexes: number[];
  perChunk?: number;
}

/** Publish with QoS 1 and wait for every PUBACK. Returns the number of chunks. */
export async function publishWhitelist(client: MqttClient, plan: PublishPlan, signer: SigningKey): Promise<{ chunks: number; deltaBytes: number }> {
  const t = siteTopics(plan.site);
  const snap = buildSnapshot(plan.version, plan.data, { kid: signer.kid, key: signer.key, ...(plan.perChunk ? { perChunk: plan.perChunk } : {}) });
  const pending: Array<Promise<unknown>> = [];
  snap.chunks.forEach((c, i) => pending.push(client.publishAsync(t.chunk(i), envelopeBytes(c), { qos: 1, retain: true })));
  // An empty retained payload deletes the retained message (MQTT 5 §3.3.1.3).
  for (const i of plan.oldChunkIndexes) if (i >= snap.chunks.length) pending.push(client.publishAsync(t.chunk(i), Buffer.alloc(0), { qos: 1, retain: true }));
  await Promise.all(pending);
  let deltaBytes = 0;
  if (plan.delta) {
    const bytes = envelopeBytes(signEnvelope(plan.delta, signer.kid, signer.key));
    deltaBytes = bytes.length;
    await client.publishAsync(t.delta, bytes, { qos: 1 });
  }
  await client.publishAsync(t.manifest, envelopeBytes(snap.manifest), { qos: 1, retain: true });
  return { chunks: snap.chunks.length, deltaBytes };
}

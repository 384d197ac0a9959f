import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestHash } from '../../src/sync/protocol/envelope.js';
import { loadPublicKey } from '../../src/sync/protocol/keys.js';
import type { ChunkMsg, DeltaMsg, ManifestMsg } from '../../src/sync/protocol/schemas.js';
import { siteTopics } from '../../src/sync/protocol/topics.js';
import { CHUNK_TARGET_BYTES, DEFAULT_MAX_PAYLOAD_BYTES, MAX_PHOTO_CHARS } from '../../src/sync/protocol/limits.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { gatectl, tempDir } from './capture.js';
import { opened, Wire } from './wire.js';

const HASH_KEY = '00112233445566778899aabbccddeeff';
const ID = '440524188001010014';
const t = siteTopics('s1');
let broker: Mosquitto;
const tmp = tempDir();
let keyFile: string;
let pub: ReturnType<typeof loadPublicKey>;

beforeAll(async () => {
  broker = await startMosquitto();
  await gatectl(['keygen', '--kid', 'c1', '--out', tmp.dir]);
  keyFile = join(tmp.dir, 'c1.key.pem');
  pub = loadPublicKey(readFileSync(join(tmp.dir, 'c1.pub.pem'), 'utf8'));
});
afterAll(async () => {
  await broker?.stop();
  tmp.cleanup();
});

function csv(name: string, rows: string[]): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, ['personId,kind,name,cards,idNumber,status', ...rows].join('\n'));
  return p;
}

const push = (file: string, ...more: string[]) =>
  gatectl(['whitelist', 'push', file, '--site', 's1', '--hash-key', HASH_KEY, '--url', broker.url, '--key-file', keyFile, ...more]);

/** What a gate coming online now would find retained: manifest and chunks, signature-checked. */
async function retained(): Promise<{ manifest: ManifestMsg; chunks: ChunkMsg[]; raw: Buffer[] }> {
  const w = await Wire.connect(broker.url);
  await w.sub(t.manifest, t.chunkWildcard);
  const m = await w.waitFor((r) => r.topic === t.manifest);
  const manifest = opened<ManifestMsg>(m.payload, 'c1', pub).body;
  const texts: string[] = [];
  const chunks: ChunkMsg[] = [];
  for (let i = 0; i < manifest.chunks; i++) {
    const c = await w.waitFor((r) => r.topic === t.chunk(i));
    const o = opened<ChunkMsg>(c.payload, 'c1', pub);
    texts.push(o.bodyText);
    chunks.push(o.body);
  }
  expect(manifestHash(texts)).toBe(manifest.sha256);
  await new Promise((r) => setTimeout(r, 300));
  const raw = w.seen.map((s) => s.payload);
  const extraChunks = w.seen.filter((s) => s.topic.startsWith(`${t.chunkWildcard.slice(0, -1)}`) && s.payload.length > 0).length;
  expect(extraChunks).toBe(manifest.chunks); // no stale chunk of an older version left retained
  await w.close();
  return { manifest, chunks, raw };
}

describe('gatectl whitelist push', () => {
  let gate: Wire;
  beforeAll(async () => {
    gate = await Wire.connect(broker.url);
    await gate.sub(t.delta);
  });
  afterAll(() => gate.close());

  it('publishes version 1 as a signed delta and a signed retained snapshot; ID numbers only as HMAC keys', async () => {
    const file = csv('v1.csv', ['p1,staff,Zhang Wei,04A21B3C;0A0B0C0D,,', `p2,visitor,Li Na,,${ID},`, 'p3,contractor,Zhao,01020304,,suspended']);
    const r = await push(file, '--chunk-size', '2');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/version 1: 3 people, 4 credentials, 0 schedules; 4 chunk\(s\); delta from 0: 7 upserts, 0 deletes/);
    const snap = await retained();
    expect(snap.manifest.version).toBe(1);
    const idKey = `id:${createHmac('sha256', Buffer.from(HASH_KEY, 'hex')).update(ID).digest('hex')}`;
    expect(snap.chunks.flatMap((c) => c.credentials).map((c) => c.key).sort()).toEqual(['card:01020304', 'card:04A21B3C', 'card:0A0B0C0D', idKey].sort());
    const d = await gate.waitFor((m) => m.topic === t.delta);
    const delta = opened<DeltaMsg>(d.payload, 'c1', pub).body;
    expect(delta).toMatchObject({ version: 1, baseVersion: 0 });
    expect(delta.upsert.people).toHaveLength(3);
    for (const bytes of [...snap.raw, d.payload]) expect(bytes.toString()).not.toContain(ID);
  });

  it('computes version 2 from the retained manifest and sends only what changed', async () => {
    gate.seen.length = 0;
    const file = csv('v2.csv', ['p1,staff,Zhang Wei,04A21B3C,,', `p2,visitor,Li Na,,${ID},`, 'p4,staff,Sun,05060708,,']);
    const r = await push(file, '--chunk-size', '2');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/version 2: .*3 chunk\(s\); delta from 1: 2 upserts, 3 deletes/);
    const delta = opened<DeltaMsg>((await gate.waitFor((m) => m.topic === t.delta)).payload, 'c1', pub).body;
    expect(delta).toEqual({
      version: 2,
      baseVersion: 1,
      upsert: { people: [{ id: 'p4', kind: 'staff', name: 'Sun' }], credentials: [{ key: 'card:05060708', personId: 'p4', status: 'active' }] },
      delete: { people: ['p3'], credentials: ['card:0A0B0C0D', 'card:01020304'] },
    });
    const snap = await retained(); // also checks chunk 3 of version 1 was cleared
    expect(snap.manifest).toMatchObject({ version: 2, chunks: 3 });
  });

  it('publishes nothing when a row is bad or the version would go back', async () => {
    gate.seen.length = 0;
    const bad = await push(csv('bad.csv', ['p1,staff,Zhang Wei,04A21B3C,,', 'p9,staff,,01020304,,']));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/bad\.csv:3: name:/);
    const back = await push(csv('ok.csv', ['p1,staff,Zhang Wei,04A21B3C,,']), '--version', '2');
    expect(back.code).toBe(1);
    expect(back.err).toMatch(/--version 2 is not newer than the site's current version 2/);
    await new Promise((r) => setTimeout(r, 300));
    expect(gate.seen.filter((m) => m.topic === t.delta)).toEqual([]);
    expect((await retained()).manifest.version).toBe(2);
  });

  it('--dry-run says what would change and publishes nothing', async () => {
    const r = await push(csv('dry.csv', ['p1,staff,Zhang Wei,04A21B3C,,']), '--dry-run');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/dry run: site s1 version 2 → 3: 1 people, 1 credentials, 0 schedules; delta from 2: 0 upserts, 4 deletes/);
    expect((await retained()).manifest.version).toBe(2);
  });

  it('reads a snapshot of more chunks than mosquitto queues at once (1000) to compute the delta', async () => {
    const w = await Wire.connect(broker.url);
    const s2 = siteTopics('s2');
    await w.sub(s2.delta);
    const rows = (changed: boolean) => Array.from({ length: 1200 }, (_, i) => `q${i},staff,${changed && i === 777 ? 'Renamed' : `P${i}`},,,`);
    const args = ['--site', 's2', '--url', broker.url, '--key-file', keyFile, '--chunk-size', '1'];
    expect((await gatectl(['whitelist', 'push', csv('big1.csv', rows(false)), ...args])).code).toBe(0);
    const r = await gatectl(['whitelist', 'push', csv('big2.csv', rows(true)), ...args]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/version 2: 1200 people.*1200 chunk\(s\); delta from 1: 1 upserts, 0 deletes/);
    const d = await w.waitFor((m) => m.topic === s2.delta && m.payload.toString().includes('Renamed'));
    expect(opened<DeltaMsg>(d.payload, 'c1', pub).body).toEqual({ version: 2, baseVersion: 1, upsert: { people: [{ id: 'q777', kind: 'staff', name: 'Renamed' }] }, delete: {} });
    await w.close();
  }, 60_000);

  it('packs photo-heavy chunks by size and never makes one larger than a gate accepts by default', async () => {
    const s3 = siteTopics('s3');
    const photo = (n: number) => 'B'.repeat(n);
    const people = [
      ...Array.from({ length: 12 }, (_, i) => ({ id: `ph${i}`, kind: 'visitor', name: `Photo ${i}`, photo: photo(700 * 1024) })),
      { id: 'max', kind: 'visitor', name: '"\\'.repeat(100), hostId: 'h'.repeat(128), photo: photo(MAX_PHOTO_CHARS) },
      { id: 'h'.repeat(128), kind: 'staff', name: 'Host' },
      ...Array.from({ length: 300 }, (_, i) => ({ id: `sm${i}`, kind: 'staff', name: `S${i}` })),
    ];
    const file = join(tmp.dir, 'photos.json');
    writeFileSync(file, JSON.stringify({ people, credentials: people.map((p, i) => ({ personId: p.id, card: (0x10000000 + i).toString(16) })) }));
    const w = await Wire.connect(broker.url);
    try {
      const r = await gatectl(['whitelist', 'push', file, '--site', 's3', '--url', broker.url, '--key-file', keyFile]);
      expect(r.err).toBe('note: the delta is larger than 4 MiB; publishing the snapshot only\n');
      expect(r.code).toBe(0);
      await w.sub(s3.manifest, s3.chunkWildcard);
      const manifest = opened<ManifestMsg>((await w.waitFor((m) => m.topic === s3.manifest)).payload, 'c1', pub).body;
      const sizes: number[] = [];
      for (let i = 0; i < manifest.chunks; i++) {
        const c = await w.waitFor((m) => m.topic === s3.chunk(i));
        const body = opened<ChunkMsg>(c.payload, 'c1', pub).body;
        sizes.push(c.payload.length);
        const records = body.people.length + body.credentials.length + body.schedules.length;
        // a chunk of several records stays near the 1 MiB target; one record may be larger, never past the limit
        if (records > 1) expect(c.payload.length).toBeLessThanOrEqual(CHUNK_TARGET_BYTES + 4096);
        expect(c.payload.length).toBeLessThanOrEqual(DEFAULT_MAX_PAYLOAD_BYTES);
      }
      expect(Math.max(...sizes)).toBeGreaterThan(MAX_PHOTO_CHARS); // the largest photo went through, alone
    } finally {
      await w.close();
    }
  }, 60_000);

  it('refuses a record no gate would accept by default, and publishes nothing', async () => {
    const s4 = siteTopics('s4');
    const windows = Array.from({ length: 200_000 }, () => ({ days: [1, 2, 3, 4, 5], from: '08:00', to: '18:00' }));
    const file = join(tmp.dir, 'huge-schedule.json');
    writeFileSync(file, JSON.stringify({ people: [{ id: 'a', kind: 'staff', name: 'A' }], credentials: [{ personId: 'a', card: '0A0B0C0D' }], schedules: [{ id: 'huge', windows, holidays: [] }] }));
    const r = await gatectl(['whitelist', 'push', file, '--site', 's4', '--url', broker.url, '--key-file', keyFile]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/schedules record "huge" makes a chunk of \d+ bytes, more than the 5242880 a gate accepts.*nothing was published/);
    const w = await Wire.connect(broker.url);
    await w.sub(s4.manifest, s4.chunkWildcard, s4.delta);
    await new Promise((res) => setTimeout(res, 500)); // retained messages come right after SUBACK
    expect(w.seen).toEqual([]);
    await w.close();
  }, 60_000);

  it('fails clearly when the broker is not there', async () => {
    const r = await gatectl(['whitelist', 'push', csv('x.csv', ['p1,staff,A,04A21B3C,,']), '--site', 's1', '--url', 'mqtt://127.0.0.1:1', '--key-file', keyFile]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot connect to mqtt:\/\/127\.0\.0\.1:1/);
  });
});

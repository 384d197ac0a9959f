import { describe, expect, it } from 'vitest';
import { createPublicKey } from 'node:crypto';
import { gateTopics, siteTopics, parseGateTopic } from '../../src/sync/protocol/topics.js';
import { envelopeBytes, manifestHash, openEnvelope, signEnvelope } from '../../src/sync/protocol/envelope.js';
import { generateKeyPair, loadPrivateKey, loadPublicKey, publicKeyRaw } from '../../src/sync/protocol/keys.js';
import { commandSchema, deltaSchema, eventsBatchSchema, chunkSchema } from '../../src/sync/protocol/schemas.js';
import { buildSnapshot } from '../../src/sync/protocol/snapshot.js';

const pair = generateKeyPair();
const priv = loadPrivateKey(pair.privatePem);
const keys = new Map([['k1', loadPublicKey(pair.publicPem)]]);

describe('topics', () => {
  it('names every topic of protocol v1', () => {
    expect(gateTopics('s1', 'g1')).toEqual({
      status: 'gate/v1/s1/g1/status',
      events: 'gate/v1/s1/g1/events',
      eventsAck: 'gate/v1/s1/g1/events/ack',
      alerts: 'gate/v1/s1/g1/alerts',
      registrations: 'gate/v1/s1/g1/registrations',
      registrationsAck: 'gate/v1/s1/g1/registrations/ack',
      cmd: 'gate/v1/s1/g1/cmd',
      cmdResult: 'gate/v1/s1/g1/cmd/result',
    });
    const s = siteTopics('s1');
    expect([s.cmd, s.manifest, s.chunk(3), s.chunkWildcard, s.delta]).toEqual([
      'gate/v1/s1/cmd',
      'gate/v1/s1/whitelist/manifest',
      'gate/v1/s1/whitelist/chunk/3',
      'gate/v1/s1/whitelist/chunk/+',
      'gate/v1/s1/whitelist/delta',
    ]);
    expect(parseGateTopic('gate/v1/s1/g1/events')).toEqual({ site: 's1', gate: 'g1', rest: 'events' });
    expect(parseGateTopic('gate/v1/s1/whitelist/delta')).toBeUndefined();
  });
  it('refuses ids that would break the topic tree', () => {
    expect(() => gateTopics('s1', 'g/#')).toThrow(expect.objectContaining({ code: 'BAD_TOPIC_ID' }));
  });
});

describe('keys', () => {
  it('loads the same key from PEM and from base64 raw', () => {
    const a = loadPublicKey(pair.publicPem);
    const b = loadPublicKey(pair.publicRaw);
    expect(publicKeyRaw(b)).toBe(pair.publicRaw);
    expect(a.equals(b)).toBe(true);
  });
  it('refuses a non-Ed25519 or malformed key with a code', () => {
    expect(() => loadPublicKey('AAAA')).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
    const ec = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: 'MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4', y: '4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM' }, format: 'jwk' });
    expect(() => loadPublicKey(ec.export({ type: 'spki', format: 'pem' }).toString())).toThrow(/expected ed25519/);
  });
});

describe('envelope', () => {
  const env = signEnvelope({ upTo: 5 }, 'k1', priv);
  it('opens a good envelope and returns the body and its exact text', () => {
    const r = openEnvelope(envelopeBytes(env), keys, 1024);
    expect(r).toEqual({ ok: true, kid: 'k1', body: { upTo: 5 }, bodyText: '{"upTo":5}' });
  });
  it('refuses oversize, bad JSON, unknown kid, bad signature', () => {
    expect(openEnvelope(envelopeBytes(env), keys, 10)).toMatchObject({ ok: false, code: 'OVERSIZE' });
    expect(openEnvelope(Buffer.from('{nope'), keys, 1024)).toMatchObject({ ok: false, code: 'BAD_JSON' });
    expect(openEnvelope(Buffer.from('{"kid":1}'), keys, 1024)).toMatchObject({ ok: false, code: 'BAD_JSON' });
    expect(openEnvelope(envelopeBytes({ ...env, kid: 'k9' }), keys, 1024)).toMatchObject({ ok: false, code: 'UNKNOWN_KID' });
    expect(openEnvelope(envelopeBytes({ ...env, body: '{"upTo":6}' }), keys, 1024)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    const other = loadPrivateKey(generateKeyPair().privatePem);
    expect(openEnvelope(envelopeBytes(signEnvelope({ upTo: 5 }, 'k1', other)), keys, 1024)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    expect(openEnvelope(envelopeBytes({ ...env, sig: 'x' }), keys, 1024)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
  });
});

describe('schemas', () => {
  const h = { id: 'c1', issuedAt: '2026-11-23T10:00:00.000+08:00', expiresAt: '2026-11-23T10:05:00.000+08:00' };
  it('accepts every command type and refuses bad ones', () => {
    for (const c of [
      { ...h, type: 'open', direction: 'in', reason: 'delivery', operator: 'ops1' },
      { ...h, type: 'set-mode', mode: 'lockdown', reason: 'drill', operator: 'ops1' },
      { ...h, type: 'replay', fromSeq: 1, toSeq: 9 },
      { ...h, type: 'purge-person', personId: 'p1' },
      { ...h, type: 'ping' },
    ]) expect(commandSchema.safeParse(c).success).toBe(true);
    expect(commandSchema.safeParse({ ...h, type: 'open', direction: 'up', reason: 'x', operator: 'o' }).success).toBe(false);
    expect(commandSchema.safeParse({ ...h, type: 'replay', fromSeq: 5, toSeq: 2 }).success).toBe(false);
    expect(commandSchema.safeParse({ ...h, type: 'reboot' }).success).toBe(false);
  });
  it('checks deltas and event batches', () => {
    expect(deltaSchema.safeParse({ version: 3, baseVersion: 2, upsert: {}, delete: {} }).success).toBe(true);
    expect(deltaSchema.safeParse({ version: 2, baseVersion: 2, upsert: {}, delete: {} }).success).toBe(false);
    expect(deltaSchema.safeParse({ version: 3, baseVersion: 2, upsert: { credentials: [{ key: 'bad', personId: 'p', status: 'active' }] } }).success).toBe(false);
    const ev = (seq: number) => ({ seq, id: `e${seq}`, ts: '2026-11-23T10:00:00.000+08:00', gate: 'g1', type: 'access', prevHash: '0'.repeat(64), hash: 'a'.repeat(64) });
    expect(eventsBatchSchema.safeParse([ev(1), ev(2)]).success).toBe(true);
    expect(eventsBatchSchema.safeParse([ev(2), ev(1)]).success).toBe(false);
    expect(eventsBatchSchema.safeParse([]).success).toBe(false);
  });
});

describe('buildSnapshot', () => {
  it('signs chunks whose concatenated bodies hash to the manifest sha256', () => {
    const people = Array.from({ length: 5 }, (_, i) => ({ id: `p${i}`, kind: 'staff' as const, name: `N${i}` }));
    const credentials = people.map((p, i) => ({ key: `card:0${i}`, personId: p.id, status: 'active' as const }));
    const snap = buildSnapshot(7, { people, credentials, schedules: [] }, { kid: 'k1', key: priv, perChunk: 4 });
    expect(snap.chunks).toHaveLength(3);
    expect(snap.manifestBody.chunks).toBe(3);
    expect(snap.manifestBody.sha256).toBe(manifestHash(snap.chunks.map((c) => c.body)));
    const opened = snap.chunks.map((c) => openEnvelope(envelopeBytes(c), keys, 1e6));
    const bodies = opened.map((o) => (o.ok ? chunkSchema.parse(o.body) : undefined));
    expect(bodies.map((b) => b?.index)).toEqual([0, 1, 2]);
    expect(bodies.flatMap((b) => b!.credentials.map((c) => c.key))).toEqual(credentials.map((c) => c.key));
    const empty = buildSnapshot(8, { people: [], credentials: [], schedules: [] }, { kid: 'k1', key: priv });
    expect(empty.chunks).toHaveLength(1);
  });
});

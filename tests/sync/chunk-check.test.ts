import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { ChunkChecker, checkChunkPayload } from '../../src/sync/chunk-check.js';
import { envelopeBytes, signEnvelope } from '../../src/sync/protocol/envelope.js';
import { openStore, type Store } from '../../src/store/index.js';
import { silentLogger } from '../../src/log.js';

const central = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const keys = new Map([['k1', central.publicKey]]);
const MAX = 1024 * 1024;

const chunk = {
  version: 7,
  index: 2,
  people: [
    { id: 'p1', kind: 'staff', name: '张三', escort: false },
    { id: 'v1', kind: 'visitor', name: 'Zoë "Q" \\ O\'Brien', hostId: 'p1', escort: true, photo: '/9j/4AAQ' },
  ],
  credentials: [
    { key: 'card:04A1B2C3', personId: 'p1', status: 'active' },
    { key: 'pass:abc', personId: 'v1', status: 'suspended', validFrom: '2026-11-23T08:00:00+08:00', validTo: '2026-11-23T18:00:00.250Z', maxEntries: 2, scheduleId: 'day' },
  ],
  schedules: [{ id: 'day', windows: [{ days: [1, 2, 3], from: '08:00', to: '18:00' }], holidays: ['2026-10-01'] }],
};

let checker: ChunkChecker | undefined;
let store: Store | undefined;
afterEach(async () => {
  await checker?.stop();
  store?.close();
  checker = undefined;
  store = undefined;
});

describe('chunk check', () => {
  it('accepts a signed chunk and returns its exact signed text, as UTF-8 bytes', () => {
    const env = signEnvelope(chunk, 'k1', central.privateKey);
    const r = checkChunkPayload(envelopeBytes(env), keys, MAX, 6);
    expect(r).toMatchObject({ ok: true, version: 7, index: 2 });
    expect(r.ok && Buffer.from(r.body).toString('utf8')).toBe(env.body);
  });

  it('refuses a forged chunk, an unknown kid and a bad record, naming the record', () => {
    expect(checkChunkPayload(envelopeBytes(signEnvelope(chunk, 'k1', other.privateKey)), keys, MAX, 0)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    expect(checkChunkPayload(envelopeBytes(signEnvelope(chunk, 'k9', central.privateKey)), keys, MAX, 0)).toMatchObject({ ok: false, code: 'UNKNOWN_KID' });
    const bad = { ...chunk, credentials: [chunk.credentials[0], { ...chunk.credentials[1], status: 'open' }] };
    const r = checkChunkPayload(envelopeBytes(signEnvelope(bad, 'k1', central.privateKey)), keys, MAX, 0);
    expect(r).toMatchObject({ ok: false, code: 'BAD_SCHEMA' });
    expect((r as { message: string }).message).toMatch(/^credentials\[1\]: status/);
    // an old version is already applied: its records are not checked again
    expect(checkChunkPayload(envelopeBytes(signEnvelope(bad, 'k1', central.privateKey)), keys, MAX, 7)).toMatchObject({ ok: true });
    expect(checkChunkPayload(Buffer.alloc(MAX + 1), keys, MAX, 0)).toMatchObject({ ok: false, code: 'OVERSIZE' });
  });

  it('checks in a worker thread, in order, and starts again after stop', async () => {
    checker = new ChunkChecker(keys, MAX, silentLogger());
    const good = envelopeBytes(signEnvelope(chunk, 'k1', central.privateKey));
    const forged = envelopeBytes(signEnvelope(chunk, 'k1', other.privateKey));
    const results = await Promise.all([checker.check(good, 0), checker.check(forged, 0), checker.check(Buffer.from('{'), 0)]);
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['ok', 'BAD_SIGNATURE', 'BAD_JSON']);
    // the body crossed from the worker intact (its buffer transferred, not copied)
    expect(results[0]!.ok && Buffer.from(results[0]!.body).toString('utf8')).toBe(signEnvelope(chunk, 'k1', central.privateKey).body);
    await checker.stop();
    expect(await checker.check(good, 0)).toMatchObject({ ok: true, index: 2 });
  });
});

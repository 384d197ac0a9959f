/**
 * On-site registration through inject: what the whitelist, the visitor
 * register, the outbox for central, the journal and the photo file hold
 * afterwards — and that the new credential then passes the real gate.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idKey } from '../../src/credentials/resident-id.js';
import { verifyPass } from '../../src/credentials/pass.js';
import { VisitorStore } from '../../src/store/visitors.js';
import {
  addAccount, call, ID_HASH_KEY, login, makeHarness, PASSWORDS, until, VALID_ID, VALID_ID_2, VALID_ID_3, VALID_ID_4, BAD_ID,
  type Harness, type Session,
} from './harness.js';
import { multipart, phoneJpeg, visitorFields } from './multipart.js';

function register(h: Harness, s: Session, fields: Record<string, string>, photo?: Buffer | null, type?: string) {
  const body = multipart(fields, photo ? { data: photo, type } : undefined);
  return h.app.inject({
    method: 'POST',
    url: '/api/visitors',
    payload: body.payload,
    headers: { ...body.headers, cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
}

describe('visitor registration', () => {
  let h: Harness;
  let admin: Session;
  let guard: Session;
  let photo: Buffer;

  beforeAll(async () => {
    h = await makeHarness({ maxPhotoBytes: 200_000 });
    await addAccount(h, 'chief', 'admin', PASSWORDS.admin);
    await addAccount(h, 'guard1', 'guard', PASSWORDS.guard);
    admin = await login(h, 'chief', PASSWORDS.admin);
    guard = await login(h, 'guard1', PASSWORDS.guard);
    photo = await phoneJpeg();
  });
  afterAll(async () => h.close());

  it('registers with the ID card: local person, id: credential, journal holds the id alone, central gets the data', async () => {
    const input = await sharp(photo).metadata();
    expect(input.orientation).toBe(6); // the test photo really carries EXIF
    expect(input.exif?.toString('latin1')).toContain('secret-owner');

    const res = await register(h, guard, visitorFields(), photo);
    expect(res.statusCode, res.body).toBe(201);
    const r = res.json();
    expect(r).toMatchObject({ credential: { kind: 'id', display: '1101**********002X' }, review: 'none' });
    expect(r.personId).toMatch(/^[0-9a-f-]{36}$/);

    expect(h.store.whitelist.person(r.personId)).toMatchObject({ kind: 'visitor', name: 'Wang Fang', origin: 'local' });
    const rec = h.store.whitelist.lookup(idKey(VALID_ID, ID_HASH_KEY));
    expect(rec).toMatchObject({ personId: r.personId, status: 'active', origin: 'local' });

    const ev = h.store.journal.get(r.seq)!;
    expect(Object.keys(ev).sort()).toEqual(['gate', 'hash', 'id', 'operator', 'personId', 'prevHash', 'review', 'seq', 'ts', 'type']);
    expect(ev).toMatchObject({ type: 'visitor_registered', personId: r.personId, operator: 'guard1' });
    const journal = JSON.stringify(h.events());
    for (const secret of ['Wang Fang', '138 0013', VALID_ID, 'Acme']) expect(journal).not.toContain(secret);

    const [queued] = h.outbox.pending();
    const reg = queued!.registration;
    expect(reg).toMatchObject({
      person: {
        id: r.personId, kind: 'visitor', name: 'Wang Fang', phone: '+86 138 0013 8000', organisation: 'Acme Supplies',
        purpose: 'Deliver samples', host: 'Zhang San', idDocument: { type: 'resident', masked: '1101**********002X' },
      },
      credential: { key: idKey(VALID_ID, ID_HASH_KEY), personId: r.personId, status: 'active' },
      operator: 'guard1',
    });
    expect(JSON.stringify(reg)).not.toContain(VALID_ID);
    expect((await sharp(Buffer.from(reg.person.photo!, 'base64')).metadata()).exif).toBeUndefined();

    // No personal data in any log line.
    for (const secret of ['Wang Fang', '138 0013', VALID_ID, VALID_ID.slice(6, 14)]) expect(h.logs()).not.toContain(secret);
  });

  it('stores the photo oriented, at most 480 px, re-encoded, with every metadata field gone', async () => {
    const v = new VisitorStore(h.store.db).get(h.outbox.pending()[0]!.registration.person.id)!;
    const file = join(h.dir, 'photos', v.photoFile!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(file);
    const meta = await sharp(bytes).metadata();
    expect(meta.format).toBe('jpeg');
    // 600×400 with orientation 6 is a 400×600 portrait; fit inside 480 → 320×480.
    expect([meta.width, meta.height]).toEqual([320, 480]);
    expect(meta.orientation).toBeUndefined();
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(bytes.toString('latin1')).not.toContain('secret-owner');
    expect(bytes.toString('latin1')).not.toContain('Exif');
  });

  it('the registered ID card then passes the gate', async () => {
    const personId = h.outbox.pending()[0]!.registration.person.id;
    const before = h.store.journal.lastSeq();
    h.type('entry', VALID_ID);
    const ev = await until(() => h.events().find((e) => e.seq > before && e.type === 'access'));
    expect(ev).toMatchObject({ granted: true, reason: 'GRANTED', personId, credential: '1101**********002X' });
  });

  it('a printed QR pass signed with the gate key: SVG code, verifies, and passes the gate', async () => {
    const res = await register(h, guard, visitorFields({ name: 'Li Lei', idType: 'passport', idNumber: 'E12345678', credential: 'pass' }), photo);
    expect(res.statusCode, res.body).toBe(201);
    const { personId, credential } = res.json();
    expect(credential.kind).toBe('pass');
    const svg = await call(h, guard, 'GET', `/api/visitors/${personId}/pass.svg`);
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toContain('image/svg+xml');
    expect(svg.body).toMatch(/^<svg[^>]*>/);

    const v = new VisitorStore(h.store.db).get(personId)!;
    expect(v.idMasked).toBe('E1*****78');
    const check = verifyPass(v.passToken!, [h.passKey]);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.body).toMatchObject({ site: 's1', gates: ['g1'], exp: Math.floor(v.validTo / 1000) });
    expect(v.credentialKey).toBe(`pass:${check.body.pid}`);

    const details = await call(h, guard, 'GET', `/api/visitors/${personId}`);
    expect(details.json()).toMatchObject({ name: 'Li Lei', credential: 'pass', idMasked: 'E1*****78', photo: `/api/photos/${personId}` });

    const before = h.store.journal.lastSeq();
    h.type('entry', v.passToken!);
    const ev = await until(() => h.events().find((e) => e.seq > before && e.type === 'access'));
    expect(ev).toMatchObject({ granted: true, reason: 'GRANTED', personId });
  });

  it('needs security review: suspended until an admin approves', async () => {
    const res = await register(h, guard, visitorFields({ name: 'Han Mei', idNumber: VALID_ID_2, needsReview: 'true' }), photo);
    expect(res.statusCode, res.body).toBe(201);
    const { personId, review } = res.json();
    expect(review).toBe('pending');
    let before = h.store.journal.lastSeq();
    h.type('entry', VALID_ID_2);
    expect(await until(() => h.events().find((e) => e.seq > before && e.type === 'access'))).toMatchObject({
      granted: false,
      reason: 'SUSPENDED',
    });

    const pending = await call(h, admin, 'GET', '/api/visitors/pending');
    expect(pending.json().visitors.map((v: { personId: string }) => v.personId)).toEqual([personId]);
    expect(JSON.stringify(pending.json())).not.toContain(VALID_ID_2);
    expect((await call(h, guard, 'POST', '/api/visitors/approve', { personId })).statusCode).toBe(403);
    expect((await call(h, admin, 'POST', '/api/visitors/approve', { personId: 'no such/../id' })).statusCode).toBe(400);
    expect((await call(h, admin, 'POST', '/api/visitors/approve', { personId: 'p-unknown' })).statusCode).toBe(404);

    const ok = await call(h, admin, 'POST', '/api/visitors/approve', { personId });
    expect(ok.statusCode).toBe(200);
    expect(h.store.journal.get(ok.json().seq)).toMatchObject({ type: 'visitor_registered', personId, operator: 'chief', approved: true });
    const again = await call(h, admin, 'POST', '/api/visitors/approve', { personId });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('NOT_PENDING');

    before = h.store.journal.lastSeq();
    h.type('entry', VALID_ID_2);
    expect(await until(() => h.events().find((e) => e.seq > before && e.type === 'access'))).toMatchObject({
      granted: true,
      personId,
    });
  });

  it('keeps an XSS name as plain data; optional items, plate, needs and escort reach the whitelist and central', async () => {
    const xss = '<img src=x onerror=alert(1)>';
    const res = await register(
      h,
      guard,
      visitorFields({ name: xss, idNumber: VALID_ID_3, items: ' laptop ', vehiclePlate: '京A12345', specialNeeds: 'wheelchair', escort: 'true' }),
      photo,
    );
    expect(res.statusCode, res.body).toBe(201);
    const { personId } = res.json();
    const v = await call(h, guard, 'GET', `/api/visitors/${personId}`);
    expect(v.headers['content-type']).toContain('application/json');
    expect(v.json()).toMatchObject({ name: xss, escort: true });
    expect(h.store.whitelist.lookup(idKey(VALID_ID_3, ID_HASH_KEY))).toMatchObject({ personId, escort: true });
    const reg = h.outbox.pending().find((p) => p.registration.person.id === personId)!.registration;
    expect(reg.person).toMatchObject({ name: xss, escort: true, items: 'laptop', vehiclePlate: '京A12345', specialNeeds: 'wheelchair' });
  });

  describe('refusals change nothing', () => {
    const state = () => ({
      seq: h.store.journal.lastSeq(),
      outbox: h.outbox.count(),
      visitors: (h.store.db.prepare('SELECT COUNT(*) AS n FROM visitors').get() as { n: number }).n,
      people: (h.store.db.prepare('SELECT COUNT(*) AS n FROM people').get() as { n: number }).n,
      photos: readdirSync(join(h.dir, 'photos')).length,
    });

    it.each([
      ['bad check digit', { idNumber: BAD_ID }, ['idNumber']],
      ['window ends before it starts', { validTo: new Date(Date.now() - 3600_000).toISOString() }, ['validTo']],
      ['ID card credential for a passport', { idType: 'passport', idNumber: 'E7654321' }, ['credential']],
      ['bad phone', { phone: 'call me' }, ['phone']],
      ['name too long', { name: 'x'.repeat(101) }, ['name']],
      ['missing host and purpose', { host: '', purpose: '   ' }, ['purpose', 'host']],
      ['unknown document type', { idType: 'library-card' }, ['idType']],
    ])('%s → 400 BAD_INPUT naming the fields', async (_label, over, fields) => {
      const before = state();
      const res = await register(h, guard, visitorFields(over as Record<string, string>), photo);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'BAD_INPUT', fields });
      expect(state()).toEqual(before);
    });

    it('a non-image, an SVG, an empty or missing photo, an oversize file, a JSON body', async () => {
      const before = state();
      const cases: Array<[Buffer | null, string, number, string]> = [
        [Buffer.from('this is not a picture'), 'image/jpeg', 400, 'PHOTO_NOT_IMAGE'],
        [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'), 'image/svg+xml', 400, 'PHOTO_NOT_IMAGE'],
        [Buffer.alloc(0), 'image/jpeg', 400, 'PHOTO_REQUIRED'],
        [null, '', 400, 'PHOTO_REQUIRED'],
        [Buffer.concat([photo, Buffer.alloc(250_000, 1)]), 'image/jpeg', 413, 'PHOTO_TOO_LARGE'],
      ];
      for (const [data, type, status, code] of cases) {
        const res = await register(h, guard, visitorFields({ idNumber: VALID_ID_4 }), data, type);
        expect(res.statusCode, code).toBe(status);
        expect(res.json().error.code).toBe(code);
      }
      // The form is checked before any image work.
      const both = await register(h, guard, visitorFields({ idNumber: BAD_ID }), Buffer.from('not a picture'));
      expect(both.json().error).toMatchObject({ code: 'BAD_INPUT', fields: ['idNumber'] });
      const json = await call(h, guard, 'POST', '/api/visitors', visitorFields());
      expect(json.statusCode).toBe(415);
      expect(json.json().error.code).toBe('NOT_MULTIPART');
      expect(state()).toEqual(before);
    });

    it('an ID card already registered to someone in their window → 409 CREDENTIAL_IN_USE', async () => {
      const before = state();
      const res = await register(h, guard, visitorFields({ name: 'Someone Else' }), photo);
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('CREDENTIAL_IN_USE');
      expect(state()).toEqual(before);
    });
  });
});

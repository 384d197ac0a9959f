/** Photos by person id and the "who is inside" muster list, from real taps at the sim readers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { addAccount, call, login, makeHarness, PASSWORDS, until, type Harness, type Session } from './harness.js';
import { multipart, phoneJpeg, visitorFields } from './multipart.js';

describe('photos and who is inside', () => {
  let h: Harness;
  let guard: Session;
  let visitorId: string;
  const centralPhoto = async () => (await sharp({ create: { width: 40, height: 50, channels: 3, background: '#00f' } }).jpeg().toBuffer()).toString('base64');

  beforeAll(async () => {
    h = await makeHarness();
    await addAccount(h, 'guard1', 'guard', PASSWORDS.guard);
    guard = await login(h, 'guard1', PASSWORDS.guard);
    h.store.whitelist.upsert(
      {
        people: [
          { id: 'p-staff', kind: 'staff', name: 'Zhang San', photo: await centralPhoto() },
          { id: 'p-nophoto', kind: 'contractor', name: 'Zhao Liu' },
        ],
        credentials: [
          { key: 'card:04A1B2C3', personId: 'p-staff', status: 'active' },
          { key: 'card:0A0B0C0D', personId: 'p-nophoto', status: 'active' },
        ],
      },
      'central',
    );
    const body = multipart(visitorFields({ name: 'Wang Fang' }), { data: await phoneJpeg() });
    const res = await h.app.inject({
      method: 'POST', url: '/api/visitors', payload: body.payload,
      headers: { ...body.headers, cookie: guard.cookie, 'x-csrf-token': guard.csrf },
    });
    visitorId = res.json().personId;
  });
  afterAll(async () => h.close());

  it('serves a local visitor photo and a central person photo as JPEG by opaque id', async () => {
    for (const id of [visitorId, 'p-staff']) {
      const res = await call(h, guard, 'GET', `/api/photos/${id}`);
      expect(res.statusCode, id).toBe(200);
      expect(res.headers['content-type']).toBe('image/jpeg');
      expect((await sharp(res.rawPayload).metadata()).format).toBe('jpeg');
    }
  });

  it('no photo, unknown person, or a path trick: JSON errors', async () => {
    expect((await call(h, guard, 'GET', '/api/photos/p-nophoto')).json().error.code).toBe('NOT_FOUND');
    expect((await call(h, guard, 'GET', '/api/photos/p-missing')).statusCode).toBe(404);
    const trick = await call(h, guard, 'GET', '/api/photos/..%2F..%2Fgate.db');
    expect(trick.statusCode).toBe(400);
    expect(trick.json().error.code).toBe('BAD_INPUT');
  });

  it('the live feed shows a grant with name, masked credential and photo URL (no personal data in it)', async () => {
    const before = h.store.journal.lastSeq();
    h.type('entry', '04A1B2C3');
    await until(() => h.events().find((e) => e.seq > before && e.type === 'access'));
    const recent = (await call(h, guard, 'GET', '/api/live/recent')).json().events;
    expect(recent[0]).toMatchObject({
      type: 'access', granted: true, reason: 'GRANTED', direction: 'in', name: 'Zhang San',
      credential: 'card:****B2C3', personId: 'p-staff', photo: '/api/photos/p-staff',
    });
  });

  it('lists who is inside with names, and drops them when they leave', async () => {
    let before = h.store.journal.lastSeq();
    h.type('entry', '11010519491231002X');
    h.type('entry', '0A0B0C0D');
    await until(() => h.events().filter((e) => e.seq > before && e.type === 'access').length === 2);
    const inside = (await call(h, guard, 'GET', '/api/inside')).json();
    expect(inside.count).toBe(3);
    const byId = Object.fromEntries(inside.people.map((p: { personId: string }) => [p.personId, p]));
    expect(byId[visitorId]).toMatchObject({ name: 'Wang Fang', kind: 'visitor', organisation: 'Acme Supplies', host: 'Zhang San', photo: `/api/photos/${visitorId}` });
    expect(byId['p-staff']).toMatchObject({ name: 'Zhang San', kind: 'staff' });
    expect(byId['p-nophoto']).toMatchObject({ name: 'Zhao Liu', photo: null });
    expect(inside.at).toMatch(/^\d{4}-\d\d-\d\dT.*[+-]\d\d:\d\d$/);

    before = h.store.journal.lastSeq();
    h.type('exit', '04A1B2C3');
    await until(() => h.events().find((e) => e.seq > before && e.type === 'access'));
    const after = (await call(h, guard, 'GET', '/api/inside')).json();
    expect(after.people.map((p: { personId: string }) => p.personId).sort()).toEqual([visitorId, 'p-nophoto'].sort());
  });
});

/**
 * "Read ID card" at the reception desk through inject: the desk reader is a
 * DeskCardReader (what SamDeskReader hands on: name, number, validity end)
 * driven by the test. The clear number must reach neither the answers, the
 * database, the outbox for central, nor the logs; an expired card is refused.
 */
import { EventEmitter } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idKey } from '../../src/credentials/resident-id.js';
import type { DeskCardReader, DeskIdCard, DeskReaderEventMap } from '../../src/drivers/types.js';
import { VisitorStore } from '../../src/store/visitors.js';
import { addAccount, call, ID_HASH_KEY, login, makeHarness, PASSWORDS, until, VALID_ID_3, type Harness, type Session } from './harness.js';
import { multipart, phoneJpeg, visitorFields } from './multipart.js';

class FakeDeskReader extends EventEmitter<DeskReaderEventMap> implements DeskCardReader {
  readonly id = 'desk';
  connected = true;
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  place(card: DeskIdCard): void {
    this.emit('card', card, Date.now());
  }
}

const CARD: DeskIdCard = { name: '王芳', number: VALID_ID_3, validTo: '2039-05-01' };
const LONG_TERM: DeskIdCard = { name: '𠀀𪚥明', number: '440301198506150024', validTo: 'long-term' };

describe('registration desk: Read ID card', () => {
  let h: Harness;
  let guard: Session;
  let other: Session;
  let photo: Buffer;
  const desk = new FakeDeskReader();

  const read = (s: Session) => call(h, s, 'POST', '/api/desk/read', {});
  function register(s: Session, fields: Record<string, string>) {
    const body = multipart(fields, { data: photo });
    return h.app.inject({ method: 'POST', url: '/api/visitors', payload: body.payload, headers: { ...body.headers, cookie: s.cookie, 'x-csrf-token': s.csrf } });
  }
  /** Press the button, then put the card on the reader once the request waits. */
  async function readWith(s: Session, card: DeskIdCard) {
    const pending = read(s);
    await until(() => desk.listenerCount('card') > 0 && (desk as unknown as { placed?: boolean }).placed !== true);
    setTimeout(() => desk.place(card), 50);
    return pending;
  }

  beforeAll(async () => {
    h = await makeHarness({ deskReader: desk, deskWaitMs: 1_500 });
    await addAccount(h, 'guard1', 'guard', PASSWORDS.guard);
    await addAccount(h, 'guard2', 'guard', PASSWORDS.guard);
    guard = await login(h, 'guard1', PASSWORDS.guard);
    other = await login(h, 'guard2', PASSWORDS.guard);
    photo = await phoneJpeg();
  });
  afterAll(async () => h.close());

  it('waits for the card and answers with the name, the masked number, the validity end and a slot id: never the number', async () => {
    const res = await readWith(guard, CARD);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toEqual({ slot: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/), name: '王芳', idMasked: '3201**********1239', validTo: '2039-05-01' });
    expect(res.body).not.toContain(VALID_ID_3);
  });

  it('a card already lying on the reader answers at once; none within the wait is 408 NO_ID_CARD', async () => {
    desk.place(LONG_TERM);
    const res = await read(guard);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: '𠀀𪚥明', validTo: 'long-term' });
    const none = await read(guard);
    expect(none.statusCode).toBe(408);
    expect(none.json().error.code).toBe('NO_ID_CARD');
  });

  it('an expired card is refused with a clear message and no slot', async () => {
    const res = await readWith(guard, { ...CARD, validTo: '2020-02-29' });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toEqual({ code: 'ID_CARD_EXPIRED', message: 'this ID card expired on 2020-02-29: register with a valid document' });
  });

  it('a card the reader read and refused (another document) answers at once with the reason, not a 20 s wait', async () => {
    const pending = read(guard);
    await until(() => desk.listenerCount('refused') > 0);
    setTimeout(() => desk.emit('refused', 'sam: a foreign permanent resident ID card (2017 layout): not supported', Date.now()), 50);
    const res = await pending;
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toEqual({
      code: 'ID_CARD_UNREADABLE',
      message: 'this card cannot be used for a registration (a foreign permanent resident ID card (2017 layout): not supported): type the document in',
    });
    // Lying on the reader before the button is pressed: the same answer, at once.
    desk.emit('refused', 'sam: base info field sex: expected 1 or 2', Date.now());
    const again = await read(guard);
    expect(again.json().error.code).toBe('ID_CARD_UNREADABLE');
  });

  it('a disconnected reader is 503; a signed-out caller is 401', async () => {
    desk.connected = false;
    expect((await read(guard)).json().error.code).toBe('DESK_READER_OFFLINE');
    desk.connected = true;
    const anon = await h.app.inject({ method: 'POST', url: '/api/desk/read', payload: {} });
    expect(anon.statusCode).toBe(401);
  });

  it('registers from the slot: name and number from the card, only masked number + HMAC + validity end kept, the number nowhere in clear', async () => {
    const readRes = await readWith(guard, CARD);
    const { slot } = readRes.json();
    // The page sends the slot instead of a number, name and document type.
    const fields = visitorFields({ idSlot: slot });
    delete (fields as Record<string, string | undefined>).idNumber;
    fields.name = 'Typed Over';
    const res = await register(guard, fields);
    expect(res.statusCode, res.body).toBe(201);
    const r = res.json();
    expect(r.credential).toEqual({ kind: 'id', display: '3201**********1239' });
    const v = new VisitorStore(h.store.db).get(r.personId)!;
    expect(v).toMatchObject({ name: '王芳', idType: 'resident', idMasked: '3201**********1239', idKey: idKey(VALID_ID_3, ID_HASH_KEY).slice(3), idValidTo: '2039-05-01' });
    const reg = h.outbox.pending().find((p) => p.registration.person.id === r.personId)!.registration;
    expect(reg.person.idDocument).toEqual({ type: 'resident', masked: '3201**********1239', validTo: '2039-05-01' });
    expect(JSON.stringify(reg)).not.toContain(VALID_ID_3);

    // The slot is spent.
    const again = await register(guard, visitorFields({ idSlot: slot, idNumber: '' }));
    expect(again.json().error.code).toBe('ID_CARD_READ_GONE');

    // The card now opens the gate.
    h.type('entry', VALID_ID_3);
    const ev = await until(() => h.events().find((e) => e.type === 'access' && e.personId === r.personId));
    expect(ev).toMatchObject({ granted: true, reason: 'GRANTED', credential: '3201**********1239' });

    // Nowhere in clear: the database file and its WAL, the logs.
    h.store.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const f of readdirSync(h.dir).filter((n) => n.startsWith('gate.db'))) {
      const bytes = readFileSync(join(h.dir, f));
      expect(bytes.includes(Buffer.from(VALID_ID_3, 'utf8')), f).toBe(false);
      expect(bytes.includes(Buffer.from(VALID_ID_3, 'utf16le')), f).toBe(false);
    }
    for (const secret of [VALID_ID_3, '王芳']) expect(h.logs()).not.toContain(secret);
  });

  it('a slot belongs to the account that read the card; a slot and a typed number together are refused', async () => {
    const { slot } = (await readWith(guard, { ...CARD, number: '440524198001010013' })).json();
    const stolen = await register(other, visitorFields({ idSlot: slot, idNumber: '' }));
    expect(stolen.json().error.code).toBe('ID_CARD_READ_GONE');
    const both = await register(guard, visitorFields({ idSlot: slot }));
    expect(both.statusCode).toBe(400);
  });
});

/**
 * On-site visitor registration (reception rules: register first, then
 * enter). One registration, in ONE transaction: the person (origin local)
 * and its credential in the whitelist, the personal data in `visitors`, the
 * message for central in the registration outbox, and the journal's
 * `visitor_registered` event holding the person id alone. The photo file is
 * written first and removed again if the transaction fails.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { idKey, isValidResidentId, maskResidentId } from '../credentials/resident-id.js';
import { passKey, type PassBody } from '../credentials/pass.js';
import type { Credential } from '../store/types.js';
import { formatTs } from '../store/time.js';
import type { VisitorRecord, VisitorStore } from '../store/visitors.js';
import type { AdminDeps, VisitorRegistration } from './deps.js';
import { AdminError } from './errors.js';
import { isoTime, optionalText, parse, plain, text } from './validate.js';

const DAY_MS = 24 * 3600_000;
export const DEFAULT_VISIT_LIMITS = { maxAdvanceDays: 30, maxVisitDays: 30 };
export type VisitLimits = typeof DEFAULT_VISIT_LIMITS;
const flag = z
  .enum(['true', 'false', 'on', 'off', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === 'on' || v === '1');
const when = isoTime;

/**
 * The form's fields, strictly (an unknown field is refused), with the visit
 * window checked against `now`: it must not have ended, may start at most
 * `maxAdvanceDays` ahead and last at most `maxVisitDays` (the personal data
 * is kept for the window plus the retention days, so a 2099 window would
 * keep it until then).
 */
export const registrationForm = (now: number, limits: VisitLimits) => z
  .strictObject({
    name: text(100),
    idType: z.enum(['resident', 'passport', 'other']),
    idNumber: plain(80).trim().min(1).max(40),
    phone: plain(80).trim().regex(/^\+?[0-9][0-9 -]{4,24}$/, 'expected a phone number'),
    organisation: text(200),
    purpose: text(500),
    host: text(200),
    hostId: plain(128).regex(/^[A-Za-z0-9_.:-]{1,128}$/).optional().or(z.literal('').transform(() => undefined)),
    validFrom: when,
    validTo: when,
    items: optionalText(500),
    vehiclePlate: optionalText(20),
    specialNeeds: optionalText(500),
    escort: flag,
    needsReview: flag,
    credential: z.enum(['id', 'pass']),
  })
  .superRefine((f, c) => {
    if (f.idType === 'resident' && !isValidResidentId(f.idNumber)) {
      c.addIssue({ code: 'custom', path: ['idNumber'], message: 'resident ID check digit or birth date is wrong' });
    }
    if (f.idType !== 'resident' && !/^[A-Za-z0-9-]{4,40}$/.test(f.idNumber)) {
      c.addIssue({ code: 'custom', path: ['idNumber'], message: 'expected 4-40 letters, digits or -' });
    }
    if (f.credential === 'id' && f.idType !== 'resident') {
      c.addIssue({ code: 'custom', path: ['credential'], message: 'only a resident ID card can be read at the gate' });
    }
    if (f.validTo <= f.validFrom) c.addIssue({ code: 'custom', path: ['validTo'], message: 'must be after validFrom' });
    if (f.validTo <= now) c.addIssue({ code: 'custom', path: ['validTo'], message: 'the visit window has already ended' });
    if (f.validFrom > now + limits.maxAdvanceDays * DAY_MS) {
      c.addIssue({ code: 'custom', path: ['validFrom'], message: `starts more than ${limits.maxAdvanceDays} days ahead` });
    }
    if (f.validTo - f.validFrom > limits.maxVisitDays * DAY_MS) {
      c.addIssue({ code: 'custom', path: ['validTo'], message: `visit longer than ${limits.maxVisitDays} days` });
    }
  });

export type RegistrationForm = z.infer<ReturnType<typeof registrationForm>>;

export interface RegistrationResult {
  personId: string;
  credential: { kind: 'id' | 'pass'; display: string };
  review: VisitorRecord['review'];
  validFrom: string;
  validTo: string;
  seq: number;
}

/** Checked before the photo is decoded: a bad form costs no image work. */
export function parseRegistration(fields: Record<string, string>, now: number, limits: VisitLimits): RegistrationForm {
  return parse(registrationForm(now, limits), fields);
}

export function registerVisitor(
  deps: AdminDeps,
  visitors: VisitorStore,
  form: RegistrationForm,
  photo: Buffer,
  operator: string,
  /** From an ID card read at the desk: its last valid day. */
  card: { idValidTo?: string } = {},
): RegistrationResult {
  const { store, gate, clock } = deps;
  const now = clock();
  const number = form.idNumber.toUpperCase();
  const hmac =
    form.idType === 'resident'
      ? idKey(number, deps.idHashKey).slice('id:'.length)
      : createHmac('sha256', deps.idHashKey).update(`${form.idType}:${number}`).digest('hex');
  const masked = form.idType === 'resident' ? maskResidentId(number) : maskOther(number);

  const personId = randomUUID();
  const status = form.needsReview ? 'suspended' : 'active';
  let key: string;
  let passToken: string | undefined;
  if (form.credential === 'id') {
    key = `id:${hmac}`;
    const holder = store.whitelist.lookup(key);
    // A card already in the whitelist (staff, or a visitor still inside the window) is not taken over.
    if (holder && !(holder.kind === 'visitor' && holder.validTo !== undefined && holder.validTo < now)) {
      throw new AdminError('CREDENTIAL_IN_USE', 409, 'this ID card already belongs to a registered person');
    }
  } else {
    const st = gate.status();
    const body: PassBody = {
      pid: randomUUID(),
      site: st.site,
      gates: [st.gate],
      nbf: Math.floor(form.validFrom / 1000),
      exp: Math.floor(form.validTo / 1000),
    };
    if (form.hostId) body.host = form.hostId;
    if (form.escort) body.escort = true;
    passToken = deps.passSigner.sign(body);
    key = passKey(body.pid);
  }

  const credential: Credential = {
    key,
    personId,
    status,
    validFrom: new Date(form.validFrom).toISOString(),
    validTo: new Date(form.validTo).toISOString(),
  };
  const photoDir = join(deps.dataDir, 'photos');
  const photoFile = `${personId}.jpg`;
  mkdirSync(photoDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(photoDir, photoFile), photo, { mode: 0o600, flag: 'wx' });

  const record: VisitorRecord = {
    personId,
    name: form.name,
    idType: form.idType,
    idMasked: masked,
    idKey: hmac,
    phone: form.phone,
    organisation: form.organisation,
    purpose: form.purpose,
    host: form.host,
    validFrom: form.validFrom,
    validTo: form.validTo,
    escort: form.escort,
    review: form.needsReview ? 'pending' : 'none',
    credentialKey: key,
    photoFile,
    registeredAt: now,
    operator,
  };
  if (form.hostId) record.hostId = form.hostId;
  if (card.idValidTo) record.idValidTo = card.idValidTo;
  if (form.items) record.items = form.items;
  if (form.vehiclePlate) record.vehiclePlate = form.vehiclePlate;
  if (form.specialNeeds) record.specialNeeds = form.specialNeeds;
  if (passToken) record.passToken = passToken;

  let seq: number;
  try {
    seq = store.transaction(() => {
      store.whitelist.upsert(
        {
          people: [{ id: personId, kind: 'visitor', name: form.name, escort: form.escort, ...(form.hostId ? { hostId: form.hostId } : {}) }],
          credentials: [credential],
        },
        'local',
      );
      visitors.insert(record);
      deps.registrations.add(registrationMessage(record, credential, photo, now));
      // Last, so a failure above leaves no event behind.
      return gate.record({ type: 'visitor_registered', personId, operator, review: record.review !== 'none' }).seq;
    });
  } catch (err) {
    rmSync(join(photoDir, photoFile), { force: true });
    throw err;
  }
  deps.log.info({ seq, personId, credential: form.credential, review: record.review }, 'visitor registered');
  return {
    personId,
    credential: { kind: form.credential, display: form.credential === 'id' ? masked : `pass:${key.slice(5, 13)}…` },
    review: record.review,
    validFrom: credential.validFrom!,
    validTo: credential.validTo!,
    seq,
  };
}

/** Another document's number, masked like an ID: first 2 and last 2 characters. */
function maskOther(n: string): string {
  return n.length <= 4 ? '*'.repeat(n.length) : `${n.slice(0, 2)}${'*'.repeat(n.length - 4)}${n.slice(-2)}`;
}

export function registrationMessage(
  v: VisitorRecord,
  credential: Credential,
  photo: Buffer | undefined,
  nowMs: number,
): VisitorRegistration {
  const person: VisitorRegistration['person'] = {
    id: v.personId,
    kind: 'visitor',
    name: v.name,
    escort: v.escort,
    phone: v.phone,
    organisation: v.organisation,
    purpose: v.purpose,
    host: v.host,
    idDocument: { type: v.idType, masked: v.idMasked, ...(v.idValidTo ? { validTo: v.idValidTo } : {}) },
    needsReview: v.review === 'pending',
  };
  if (v.hostId) person.hostId = v.hostId;
  if (photo) person.photo = photo.toString('base64');
  if (v.items) person.items = v.items;
  if (v.vehiclePlate) person.vehiclePlate = v.vehiclePlate;
  if (v.specialNeeds) person.specialNeeds = v.specialNeeds;
  return { id: randomUUID(), person, credential, registeredAt: formatTs(nowMs), operator: v.operator };
}

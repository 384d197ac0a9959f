/**
 * Visitor registration (multipart form with one photo), the security review
 * queue (admin), a visitor's pass details and its printable QR code. Person
 * ids in these URLs are random UUIDs: no personal data.
 */
import type { FastifyInstance } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { AdminContext } from '../server.js';
import { AdminError, badInput, notFound } from '../errors.js';
import { processPhoto } from '../photo.js';
import { DEFAULT_VISIT_LIMITS, parseRegistration, registerVisitor, registrationMessage } from '../registration.js';
import { opaqueId, parse } from '../validate.js';
import { photoUrl } from '../live-view.js';
import { cardExpired } from '../desk-cards.js';
import { operatorOf } from '../session.js';
import type { VisitorRecord } from '../../store/visitors.js';
import type { Credential } from '../../store/types.js';
import type { DeskIdCard } from '../../drivers/types.js';

const approveBody = z.strictObject({ personId: opaqueId });
const idParams = z.strictObject({ personId: opaqueId });

/** What the page shows of a visitor: enough for the pass and the review, never the document number. */
function publicView(v: VisitorRecord) {
  return {
    personId: v.personId,
    name: v.name,
    idType: v.idType,
    idMasked: v.idMasked,
    ...(v.idValidTo ? { idValidTo: v.idValidTo } : {}),
    phone: v.phone,
    organisation: v.organisation,
    purpose: v.purpose,
    host: v.host,
    validFrom: new Date(v.validFrom).toISOString(),
    validTo: new Date(v.validTo).toISOString(),
    escort: v.escort,
    review: v.review,
    credential: v.credentialKey.startsWith('pass:') ? 'pass' : 'id',
    photo: v.photoFile ? photoUrl(v.personId) : null,
    registeredAt: new Date(v.registeredAt).toISOString(),
    operator: v.operator,
  };
}

export function visitorRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const { deps, visitors } = ctx;
  const signedIn = { config: { access: 'signed-in' as const } };

  app.post('/api/visitors', signedIn, async (req, reply) => {
    const operator = operatorOf(req).account;
    if (!req.isMultipart()) throw new AdminError('NOT_MULTIPART', 415, 'send the form as multipart/form-data');
    const fields: Record<string, string> = {};
    let upload: Buffer | undefined;
    for await (const part of req.parts() as AsyncIterable<Multipart>) {
      if (part.type === 'file') {
        if (part.fieldname !== 'photo') throw badInput(`unexpected file field ${part.fieldname}`);
        if (upload) throw badInput('send one photo', 'DUPLICATE_FIELD');
        upload = await part.toBuffer(); // throws FST_REQ_FILE_TOO_LARGE → PHOTO_TOO_LARGE (413)
      } else {
        if (part.valueTruncated) throw badInput(`field ${part.fieldname} is too long`, 'FIELD_TOO_LONG');
        if (typeof part.value !== 'string') throw badInput(`field ${part.fieldname} is not text`);
        // A field sent twice would leave the server to pick one: refuse instead.
        if (Object.hasOwn(fields, part.fieldname)) throw badInput(`field ${part.fieldname} is sent twice`, 'DUPLICATE_FIELD');
        fields[part.fieldname] = part.value;
      }
    }
    // "Read ID card": the form names a slot; name and number come from the card, on the gate.
    const slotId = fields.idSlot;
    delete fields.idSlot;
    let card: DeskIdCard | undefined;
    if (slotId !== undefined && slotId !== '') {
      const slot = ctx.desk?.peek(slotId, operator);
      if (!slot) throw new AdminError('ID_CARD_READ_GONE', 409, 'the ID card read has expired or was used: read the card again');
      if (fields.idNumber) throw badInput('send either the ID card read or a typed document number, not both');
      card = slot.card;
      if (cardExpired(card, deps.clock())) throw new AdminError('ID_CARD_EXPIRED', 422, `this ID card expired on ${card.validTo}`);
      Object.assign(fields, { name: card.name, idType: 'resident', idNumber: card.number });
    }
    const form = parseRegistration(fields, deps.clock(), deps.visitLimits ?? DEFAULT_VISIT_LIMITS);
    if (!upload || upload.length === 0) throw badInput('a photo is required', 'PHOTO_REQUIRED');
    const photo = await processPhoto(upload);
    const result = registerVisitor(deps, visitors, form, photo, operator, card ? { idValidTo: card.validTo } : {});
    if (slotId) ctx.desk?.release(slotId);
    return reply.code(201).send(result);
  });

  app.get('/api/visitors/pending', { config: { access: 'admin' } }, async () => ({
    visitors: visitors.pending().map(publicView),
  }));

  app.post('/api/visitors/approve', { config: { access: 'admin' } }, async (req) => {
    const operator = operatorOf(req).account;
    const { personId } = parse(approveBody, req.body);
    const v = visitors.get(personId);
    if (!v) throw notFound('visitor');
    if (v.review !== 'pending') throw new AdminError('NOT_PENDING', 409, 'this visitor is not waiting for review');
    const now = deps.clock();
    const credential: Credential = {
      key: v.credentialKey,
      personId,
      status: 'active',
      validFrom: new Date(v.validFrom).toISOString(),
      validTo: new Date(v.validTo).toISOString(),
    };
    const seq = deps.store.transaction(() => {
      visitors.approve(personId, operator, now);
      deps.store.whitelist.upsert({ credentials: [credential] }, 'local');
      deps.registrations.add(registrationMessage({ ...v, review: 'approved', operator }, credential, undefined, now));
      return deps.gate.record({ type: 'visitor_registered', personId, operator, approved: true }).seq;
    });
    req.log.info({ seq, personId }, 'visitor approved after security review');
    return { personId, review: 'approved', seq };
  });

  app.get('/api/visitors/:personId', signedIn, async (req) => {
    const { personId } = parse(idParams, req.params);
    const v = visitors.get(personId);
    if (!v) throw notFound('visitor');
    return publicView(v);
  });

  app.get('/api/visitors/:personId/pass.svg', signedIn, async (req, reply) => {
    const { personId } = parse(idParams, req.params);
    const token = visitors.get(personId)?.passToken;
    if (!token) throw notFound('pass');
    const svg = await QRCode.toString(token, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return reply.type('image/svg+xml').send(svg);
  });
}

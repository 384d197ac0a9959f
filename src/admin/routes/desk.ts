/**
 * "Read ID card" on the registration form: POST /api/desk/read waits for a
 * card on the reception desk's reader and answers with what the form shows
 * (name, masked number, validity end) and an opaque slot id; the clear number
 * stays on the gate (desk-cards.ts). An expired card is refused and forgotten.
 */
import type { FastifyInstance } from 'fastify';
import { isValidResidentId, maskResidentId } from '../../credentials/resident-id.js';
import type { AdminContext } from '../server.js';
import { AdminError } from '../errors.js';
import { cardExpired } from '../desk-cards.js';
import { operatorOf } from '../session.js';

export const DESK_WAIT_MS = 20_000;

export function deskRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.post('/api/desk/read', { config: { access: 'signed-in' } }, async (req, reply) => {
    const desk = ctx.desk;
    if (!desk) throw new AdminError('NO_DESK_READER', 404, 'no ID card reader is configured at this desk (readers[].use: desk)');
    if (!desk.reader.connected) throw new AdminError('DESK_READER_OFFLINE', 503, 'the desk ID card reader is not connected');
    // The browser going away (page closed, another click) gives up the wait, so a card placed later is not spent on it.
    const read = await desk.next(ctx.deskWaitMs, (abort) => reply.raw.once('close', () => !reply.raw.writableFinished && abort()));
    if (!read) throw new AdminError('NO_ID_CARD', 408, `no ID card was placed on the desk reader within ${Math.round(ctx.deskWaitMs / 1000)} s`);
    if ('refused' in read) {
      req.log.info('desk ID card refused: unreadable');
      throw new AdminError('ID_CARD_UNREADABLE', 422, `this card cannot be used for a registration (${read.refused.replace(/^sam: /, '')}): type the document in`);
    }
    const card = read.card;
    const now = ctx.deps.clock();
    if (cardExpired(card, now)) {
      req.log.info('desk ID card refused: expired');
      throw new AdminError('ID_CARD_EXPIRED', 422, `this ID card expired on ${card.validTo}: register with a valid document`);
    }
    if (!isValidResidentId(card.number)) {
      req.log.warn('desk ID card refused: check digit or birth date wrong');
      throw new AdminError('ID_CARD_INVALID', 422, 'the number read from this ID card is not valid');
    }
    const slot = desk.hold(card, operatorOf(req).account);
    req.log.info('desk ID card read for a registration');
    return { slot, name: card.name, idMasked: maskResidentId(card.number), validTo: card.validTo };
  });
}

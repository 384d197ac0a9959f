/** The live feed: a backlog of recent events, then server-sent events as they commit. */
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../server.js';
import { operatorOf } from '../session.js';

/** Event types the live page lists (others are in the journal search). */
export const LIVE_TYPES = [
  'access', 'manual_open', 'mode_changed', 'door_forced', 'door_held', 'tamper', 'fire_alarm', 'reader_status',
  'visitor_registered',
];

export function liveRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const signedIn = { config: { access: 'signed-in' as const } };
  app.get('/api/live/recent', signedIn, async () => ({
    events: ctx.search.recent(30, LIVE_TYPES).map((ev) => ctx.live.item(ev)),
  }));

  app.get('/api/live', signedIn, (req, reply) => {
    operatorOf(req);
    // The session was checked in onRequest; from here the socket is the hub's.
    reply.hijack();
    ctx.hub.attach(reply.raw);
  });
}

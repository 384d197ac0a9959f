/**
 * Gate status, manual open (any signed-in guard, reason required), mode
 * switch (admin, with an explicit confirmation) and alert acknowledgement.
 * The gate journals manual_open / mode_changed with the operator.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AdminContext } from '../server.js';
import { AdminError, badInput } from '../errors.js';
import { timesyncdSynced } from '../clock-sync.js';
import { parse, text } from '../validate.js';
import { recordAdminAction } from '../audit.js';
import { operatorOf } from '../session.js';

const openBody = z.strictObject({ direction: z.enum(['in', 'out']), reason: text(200) });
const modeBody = z.strictObject({
  mode: z.enum(['normal', 'lockdown', 'emergency']),
  reason: text(200),
  confirm: z.literal(true, { message: 'confirm must be true' }).optional(),
});
const ackBody = z.union([
  z.strictObject({ seqs: z.array(z.number().int().min(1)).min(1).max(500) }),
  z.strictObject({ all: z.literal(true) }),
]);

/** Errors the gate throws for bad input carry these codes; anything else is a fault. */
const GATE_INPUT_CODES = new Set(['REASON_REQUIRED', 'REASON_TOO_LONG', 'BAD_MODE']);

function gateCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && GATE_INPUT_CODES.has(code)) throw badInput((err as Error).message, code);
    throw err;
  }
}

export function gateRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const { deps } = ctx;
  const signedIn = { config: { access: 'signed-in' as const } };

  app.get('/api/status', signedIn, async () => {
    const s = deps.gate.status();
    const sync = deps.syncStatus?.();
    const started = Date.parse(s.startedAt);
    return {
      gate: s.gate,
      site: s.site,
      mode: s.mode,
      startedAt: s.startedAt,
      uptimeS: Number.isFinite(started) ? Math.max(0, Math.floor((deps.clock() - started) / 1000)) : null,
      readers: s.readers,
      whitelistVersion: s.whitelistVersion,
      lastSeq: s.lastSeq,
      mqtt: sync ? { connected: sync.connected } : null,
      outbox: sync ? { pending: sync.pending, oldestSeq: sync.oldestSeq ?? null } : null,
      clockSynced: (deps.clockSynced ?? timesyncdSynced)() ?? null,
      passKey: s.passKey,
    };
  });

  app.post('/api/open', signedIn, async (req) => {
    const body = parse(openBody, req.body);
    const operator = operatorOf(req).account;
    const ev = gateCall(() => deps.gate.manualOpen(body.direction, body.reason, { operator, source: 'admin' }));
    req.log.info({ seq: ev.seq, direction: body.direction }, 'manual open from admin page');
    return { seq: ev.seq, ts: ev.ts };
  });

  app.post('/api/mode', { config: { access: 'admin' } }, async (req) => {
    const body = parse(modeBody, req.body);
    // A mode switch frees or locks every passage: the page asks, and the API insists.
    if (body.confirm !== true) throw new AdminError('CONFIRMATION_REQUIRED', 400, 'confirm the mode switch');
    const operator = operatorOf(req).account;
    const ev = gateCall(() => deps.gate.setMode(body.mode, body.reason, { operator, source: 'admin' }));
    return { seq: ev.seq, ts: ev.ts, mode: body.mode };
  });

  app.get('/api/alerts', signedIn, async () => {
    const items = [];
    for (const seq of ctx.alerts.open()) {
      const ev = deps.store.journal.get(seq);
      if (ev) items.push({ ...ctx.live.item(ev), alert: true });
    }
    return { alerts: items };
  });

  app.post('/api/alerts/ack', signedIn, async (req) => {
    const operator = operatorOf(req).account;
    const body = parse(ackBody, req.body);
    const done = ctx.alerts.acknowledge('all' in body ? 'all' : body.seqs);
    if (done.length) {
      const seq = recordAdminAction(deps, operator, 'alerts_acknowledged', {
        count: done.length, first: Math.min(...done), last: Math.max(...done),
      });
      req.log.info({ seq, seqs: done }, 'alerts acknowledged');
    }
    return { acknowledged: done };
  });
}

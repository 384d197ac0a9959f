/**
 * Everything central sends passes here first: envelope size, signature
 * (kid → key from config.central.keys), then the body's schema. A refusal
 * changes nothing, is logged, and leaves a rate-limited command_rejected
 * event in the journal — rate-limited so a flood of junk cannot fill it.
 */
import type { KeyObject } from 'node:crypto';
import type { z } from 'zod';
import type { Logger } from '../log.js';
import type { Clock } from '../types.js';
import type { GateControl } from '../controller/gate-api.js';
import { openEnvelope } from './protocol/envelope.js';
import { describeZodError } from './protocol/schemas.js';
import { loadPublicKey } from './protocol/keys.js';

export type RejectCode =
  | 'OVERSIZE' | 'BAD_JSON' | 'UNKNOWN_KID' | 'BAD_SIGNATURE' | 'BAD_SCHEMA'
  | 'EXPIRED' | 'REPLAYED' | 'UNKNOWN_TYPE' | 'BAD_HASH' | 'BAD_WHITELIST';

export type Opened<T> =
  | { ok: true; body: T; text: string; kid: string }
  | { ok: false; code: RejectCode; message: string; /** the body, when the signature held but the schema did not */ raw?: unknown };

/** Load config.central.keys; a bad key is a config error naming the kid. */
export function loadCentralKeys(keys: Record<string, string>): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  for (const [kid, text] of Object.entries(keys)) {
    try {
      out.set(kid, loadPublicKey(text));
    } catch (err) {
      throw Object.assign(new Error(`central.keys.${kid}: ${(err as Error).message}`), { code: 'CONFIG_INVALID', cause: err });
    }
  }
  return out;
}

export function openSigned<S extends z.ZodType>(
  payload: Buffer,
  keys: ReadonlyMap<string, KeyObject>,
  maxBytes: number,
  schema: S,
): Opened<z.infer<S>> {
  const env = openEnvelope(payload, keys, maxBytes);
  if (!env.ok) return env;
  const parsed = schema.safeParse(env.body);
  if (!parsed.success) return { ok: false, code: 'BAD_SCHEMA', message: describeZodError(parsed.error), raw: env.body };
  return { ok: true, body: parsed.data, text: env.bodyText, kid: env.kid };
}

export interface Rejection {
  /** Which topic (relative: 'cmd', 'events/ack', 'whitelist/delta', …). */
  topic: string;
  code: RejectCode;
  message: string;
  /** Only from a body whose signature held. */
  commandId?: string;
}

/** Journal entries per minute at most; the rest are counted and reported with the next one. */
const PER_MINUTE = 10;

export class Rejections {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(private readonly deps: { gate: GateControl; log: Logger; clock: Clock; perMinute?: number }) {}

  report(r: Rejection): void {
    const { gate, log, clock } = this.deps;
    log.warn({ topic: r.topic, code: r.code, commandId: r.commandId, reason: r.message }, 'central message rejected');
    const now = clock();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= (this.deps.perMinute ?? PER_MINUTE)) {
      this.suppressed++;
      return;
    }
    this.inWindow++;
    const ev: { type: 'command_rejected'; [k: string]: unknown } = { type: 'command_rejected', topic: r.topic, code: r.code };
    if (r.commandId) ev.commandId = r.commandId;
    if (this.suppressed) ev.suppressed = this.suppressed;
    this.suppressed = 0;
    try {
      gate.record(ev);
    } catch (err) {
      log.error({ err }, 'cannot journal command_rejected');
    }
  }
}

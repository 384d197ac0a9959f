/**
 * Everything central sends passes here first: envelope size, signature
 * (kid → key from config.central.keys), then the body's schema. A refusal
 * changes nothing, is logged, and leaves a rate-limited command_rejected
 * event in the journal — rate-limited so a flood of junk cannot fill it.
 */
import type { KeyObject } from 'node:crypto';
import type { z } from 'zod';
import type { Logger } from '../log.js';
import type { Clock } from '../drivers/types.js';
import type { GateControl } from '../controller/gate-api.js';
import { openEnvelope } from './protocol/envelope.js';
import { describeZodError } from './protocol/schemas.js';
import { loadPublicKey } from './protocol/keys.js';

export type RejectCode =
  | 'OVERSIZE' | 'BAD_JSON' | 'UNKNOWN_KID' | 'BAD_SIGNATURE' | 'BAD_SCHEMA'
  | 'EXPIRED' | 'REPLAYED' | 'UNKNOWN_TYPE' | 'BAD_HASH' | 'BAD_WHITELIST'
  /** A signed events/ack beyond the last event the gate has published. */
  | 'ACK_BEYOND_SENT';

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
  /** Extra journal fields (numbers only: nothing personal), e.g. an over-ack's upTo and sentUpTo. */
  detail?: Record<string, number>;
}

/** Journal entries (and log lines, and answers) per sliding minute at most. */
const PER_MINUTE = 10;
const WINDOW_MS = 60_000;

/**
 * Refusals are journaled, logged and answered at most `perMinute` times in
 * any 60 s (a sliding window: the times of the last `perMinute` admitted
 * refusals are kept, and one more is admitted only when the oldest of them
 * is a minute old). A fixed window let up to twice the limit through around
 * its edge. The rest are counted; the next admitted refusal carries the
 * count (`suppressed`) in its journal event and its log line. A flood of
 * forged messages therefore costs the SD card and the broker a bounded
 * number of writes, whatever its rate.
 */
export class Rejections {
  /** Times of the admitted refusals still inside the window, oldest first (at most perMinute). */
  private readonly admitted: number[] = [];
  private suppressed = 0;
  private total = 0;

  constructor(private readonly deps: { gate: GateControl; log: Logger; clock: Clock; perMinute?: number }) {}

  /** Refusals reported since start (admitted or not): for tests and the status. */
  get count(): number {
    return this.total;
  }

  /**
   * Record a refusal. Returns true when it was admitted (journaled and
   * logged): only then may the caller answer it on the wire.
   */
  report(r: Rejection): boolean {
    const { gate, log, clock } = this.deps;
    const limit = this.deps.perMinute ?? PER_MINUTE;
    this.total++;
    const now = clock();
    while (this.admitted.length && now - this.admitted[0]! >= WINDOW_MS) this.admitted.shift();
    // A clock stepped back: entries "in the future" still count, so the limit holds.
    if (this.admitted.length >= limit) {
      this.suppressed++;
      return false;
    }
    this.admitted.push(now);
    const suppressed = this.suppressed;
    this.suppressed = 0;
    log.warn(
      { topic: r.topic, code: r.code, commandId: r.commandId, reason: r.message.slice(0, 300), ...(suppressed ? { suppressed } : {}) },
      'central message rejected',
    );
    const ev: { type: 'command_rejected'; [k: string]: unknown } = { type: 'command_rejected', topic: r.topic, code: r.code };
    if (r.commandId) ev.commandId = r.commandId;
    if (r.detail) Object.assign(ev, r.detail);
    if (suppressed) ev.suppressed = suppressed;
    try {
      gate.record(ev);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'cannot journal command_rejected');
    }
    return true;
  }
}

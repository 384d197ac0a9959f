/**
 * Central's commands (…/{gate}/cmd and gate/v1/{site}/cmd): signed, then
 * checked for schema, type, expiry and replay (ids persisted), then run.
 * Every command that can be answered gets a cmd/result `{id, ok, result?,
 * error?}` echoing its MQTT 5 correlation data. A refusal leaves a
 * command_rejected event and is answered only within the rejection limit
 * (inbound.ts: 10 in any minute), so forged floods get no answers beyond it.
 */
import type { KeyObject } from 'node:crypto';
import type { IPublishPacket } from 'mqtt';
import type { Logger } from '../log.js';
import type { Clock } from '../types.js';
import type { GateControl } from '../controller/gate-api.js';
import type { SeenCommands } from '../store/seen-commands.js';
import type { PersonEraser } from '../store/erase.js';
import { formatTs } from '../store/time.js';
import { commandHeaderSchema, commandSchema, COMMAND_TYPES, describeZodError, type CommandMsg, type CommandResultMsg } from './protocol/schemas.js';
import { openEnvelope } from './protocol/envelope.js';
import type { MqttLink } from './mqtt-link.js';
import type { EventFeed } from './event-feed.js';
import type { RejectCode, Rejections } from './inbound.js';

/** A command valid for longer than this is refused: its id would have to be remembered too long. */
const MAX_LIFETIME_MS = 7 * 24 * 3600_000;

export interface CommandDeps {
  gate: GateControl;
  seen: SeenCommands;
  /** purge-person: the one privacy erase (store/erase.ts), photo file included. */
  eraser: PersonEraser;
  feed: EventFeed;
  link: MqttLink;
  resultTopic: string;
  keys: ReadonlyMap<string, KeyObject>;
  maxBytes: number;
  rejections: Rejections;
  log: Logger;
  clock: Clock;
}

class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class CommandHandler {
  constructor(private readonly deps: CommandDeps) {}

  handle(topic: 'cmd' | 'site/cmd', payload: Buffer, packet: IPublishPacket): void {
    const correlationData = packet.properties?.correlationData;
    const env = openEnvelope(payload, this.deps.keys, this.deps.maxBytes);
    if (!env.ok) {
      // Unsigned: the id cannot be trusted, but a caller holding a
      // correlation id still deserves to know why nothing happened.
      this.refuse(topic, env.code, env.message, undefined, correlationData);
      return;
    }
    const header = commandHeaderSchema.safeParse(env.body);
    const rawId = (env.body as { id?: unknown } | null)?.id;
    const id = header.success ? header.data.id : typeof rawId === 'string' ? rawId.slice(0, 128) : undefined;
    if (!header.success) return this.refuse(topic, 'BAD_SCHEMA', describeZodError(header.error), id, correlationData);
    const h = header.data;
    if (!(COMMAND_TYPES as readonly string[]).includes(h.type)) {
      return this.refuse(topic, 'UNKNOWN_TYPE', `unknown command type "${h.type.slice(0, 64)}"`, id, correlationData);
    }
    const now = this.deps.clock();
    const expires = Date.parse(h.expiresAt);
    if (expires < now) return this.refuse(topic, 'EXPIRED', `command expired at ${h.expiresAt}`, id, correlationData);
    if (expires - Date.parse(h.issuedAt) > MAX_LIFETIME_MS) {
      return this.refuse(topic, 'BAD_SCHEMA', 'command lifetime exceeds 7 days', id, correlationData);
    }
    const full = commandSchema.safeParse(env.body);
    if (!full.success) return this.refuse(topic, 'BAD_SCHEMA', describeZodError(full.error), id, correlationData);
    if (!this.deps.seen.claim(h.id, expires, now)) {
      return this.refuse(topic, 'REPLAYED', `command ${h.id} was already received`, id, correlationData);
    }
    let result: CommandResultMsg;
    try {
      result = { id: h.id, ok: true, result: this.run(full.data) };
      this.deps.log.info({ commandId: h.id, type: h.type, kid: env.kid }, 'central command executed');
    } catch (err) {
      const code = err instanceof CommandError ? err.code : ((err as { code?: string }).code ?? 'EXEC_FAILED');
      result = { id: h.id, ok: false, error: { code, message: (err as Error).message } };
      this.deps.log.warn({ commandId: h.id, type: h.type, code }, 'central command failed');
    }
    this.reply(result, correlationData);
  }

  private run(c: CommandMsg): unknown {
    const { gate, eraser, feed, clock } = this.deps;
    switch (c.type) {
      case 'open': {
        const ev = gate.manualOpen(c.direction, c.reason, { operator: c.operator, source: 'central' });
        return { seq: ev.seq };
      }
      case 'set-mode': {
        const ev = gate.setMode(c.mode, c.reason, { operator: c.operator, source: 'central' });
        return { seq: ev.seq, mode: c.mode };
      }
      case 'replay': {
        const r = feed.replay(c.fromSeq, c.toSeq);
        if (r.count === 0) throw new CommandError('NOTHING_TO_REPLAY', `no events in ${c.fromSeq}..${c.toSeq ?? 'end'} on this gate (first kept ${r.fromSeq}, last ${r.toSeq})`);
        return r;
      }
      case 'purge-person': {
        // Central's command: the whitelist person goes whoever listed it.
        const { person, visitor, registrations: queued } = eraser.erase([c.personId], { whitelist: 'all' })[0]!;
        const ev = gate.record({ type: 'purge', personId: c.personId, scope: 'person' });
        return { personId: c.personId, person, visitor, registrations: queued, seq: ev.seq };
      }
      case 'ping':
        return { pong: true, ts: formatTs(clock()) };
    }
  }

  private refuse(topic: string, code: RejectCode, message: string, id: string | undefined, correlationData?: Buffer): void {
    // Answered only when admitted by the rejection limit: a flood of forged
    // commands must not turn into a flood of cmd/result publishes.
    const admitted = this.deps.rejections.report({ topic, code, message, ...(id ? { commandId: id } : {}) });
    if (admitted && (id !== undefined || correlationData)) {
      this.reply({ id: id ?? '', ok: false, error: { code, message } }, correlationData);
    }
  }

  private reply(result: CommandResultMsg, correlationData?: Buffer): void {
    this.deps.link
      .publish(this.deps.resultTopic, JSON.stringify(result), correlationData ? { correlationData } : {})
      .catch((err: Error) => this.deps.log.warn({ commandId: result.id, err }, 'cmd/result not sent'));
  }
}

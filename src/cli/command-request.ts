/**
 * A signed command to one gate (or a whole site) and, when asked, its result:
 * MQTT 5 request/response — the command carries `responseTopic` and
 * `correlationData`, the gate echoes the correlation data on `…/cmd/result`.
 */
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { envelopeBytes, signEnvelope } from '../sync/protocol/envelope.js';
import { commandResultSchema, commandSchema, describeZodError, type CommandMsg, type CommandResultMsg } from '../sync/protocol/schemas.js';
import { PROTOCOL_ROOT, gateTopics, parseGateTopic, siteTopics } from '../sync/protocol/topics.js';
import type { SigningKey } from './broker-options.js';
import { CliError } from './cli-error.js';

export type CommandFields =
  | { type: 'open'; direction: 'in' | 'out'; reason: string; operator: string }
  | { type: 'set-mode'; mode: 'normal' | 'lockdown' | 'emergency'; reason: string; operator: string }
  | { type: 'replay'; fromSeq: number; toSeq?: number }
  | { type: 'purge-person'; personId: string }
  | { type: 'ping' };

/** id, issuedAt and expiresAt added; checked against the protocol schema before anything is sent. */
export function buildCommand(fields: CommandFields, nowMs: number, ttlMs: number): CommandMsg {
  const body = { id: randomUUID(), issuedAt: new Date(nowMs).toISOString(), expiresAt: new Date(nowMs + ttlMs).toISOString(), ...fields };
  const r = commandSchema.safeParse(body);
  if (!r.success) throw new CliError('BAD_COMMAND', `command not sent: ${describeZodError(r.error)}`, 2);
  return r.data;
}

export interface Target {
  site: string;
  /** Absent: every gate of the site (`gate/v1/{site}/cmd`). */
  gate?: string;
}

function unreadableAnswer(body: unknown): body is CommandResultMsg {
  const b = body as { id?: unknown; ok?: unknown; error?: { code?: unknown } } | null;
  return typeof b === 'object' && b !== null && b.id === '' && b.ok === false && typeof b.error?.code === 'string';
}

/** Publish (QoS 1, PUBACK awaited); with `reply`, correlation data (and a response topic) for the result. */
export async function publishCommand(
  client: MqttClient,
  target: Target,
  cmd: CommandMsg,
  signer: SigningKey,
  reply?: { responseTopic?: string },
): Promise<void> {
  const topic = target.gate ? gateTopics(target.site, target.gate).cmd : siteTopics(target.site).cmd;
  const properties = reply
    ? { correlationData: Buffer.from(cmd.id, 'utf8'), ...(reply.responseTopic ? { responseTopic: reply.responseTopic } : {}) }
    : undefined;
  await client.publishAsync(topic, envelopeBytes(signEnvelope(cmd, signer.kid, signer.key)), { qos: 1, ...(properties ? { properties } : {}) });
}

/**
 * Send and wait for the gate's `cmd/result` (matched by correlation data or,
 * failing that, by id). Rejects with CMD_TIMEOUT when none comes in time: the
 * command stays queued for an offline gate until it expires.
 */
export async function requestCommand(
  client: MqttClient,
  target: Required<Target>,
  cmd: CommandMsg,
  signer: SigningKey,
  timeoutMs: number,
): Promise<CommandResultMsg> {
  const resultTopic = gateTopics(target.site, target.gate).cmdResult;
  let onMessage: ((topic: string, payload: Buffer, packet: { properties?: { correlationData?: Buffer } }) => void) | undefined;
  const answered = new Promise<CommandResultMsg>((resolve) => {
    onMessage = (topic, payload, packet) => {
      if (topic !== resultTopic) return;
      const corr = packet.properties?.correlationData?.toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        return;
      }
      const r = commandResultSchema.safeParse(body);
      if (r.success && (corr === cmd.id || r.data.id === cmd.id)) resolve(r.data);
      // A gate that could not read the command (bad signature, unknown kid)
      // answers with id "" — the correlation data still says it is ours.
      else if (corr === cmd.id && unreadableAnswer(body)) resolve(body);
    };
    client.on('message', onMessage);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await client.subscribeAsync(resultTopic, { qos: 1 });
    await publishCommand(client, target, cmd, signer, { responseTopic: resultTopic });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CliError('CMD_TIMEOUT', `no result from gate ${target.gate} within ${timeoutMs / 1000} s (the command stays queued for it until ${cmd.expiresAt})`)),
        timeoutMs,
      );
    });
    return await Promise.race([answered, timeout]);
  } finally {
    clearTimeout(timer);
    if (onMessage) client.removeListener('message', onMessage);
  }
}

/**
 * A command to every gate of a site (`gate/v1/{site}/cmd`): each gate answers
 * on its own `…/{gate}/cmd/result`, echoing the correlation data. How many
 * gates there are is not known here, so this collects for `waitMs`.
 */
export async function broadcastCommand(
  client: MqttClient,
  site: string,
  cmd: CommandMsg,
  signer: SigningKey,
  waitMs: number,
  onResult: (gate: string, result: CommandResultMsg) => void,
): Promise<number> {
  const filter = `${PROTOCOL_ROOT}/${site}/+/cmd/result`;
  let count = 0;
  const onMessage = (topic: string, payload: Buffer, packet: { properties?: { correlationData?: Buffer } }) => {
    const t = parseGateTopic(topic);
    if (!t || t.site !== site || t.rest !== 'cmd/result') return;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const corr = packet.properties?.correlationData?.toString('utf8');
    const r = commandResultSchema.safeParse(body);
    if (r.success && (corr === cmd.id || r.data.id === cmd.id)) (count++, onResult(t.gate, r.data));
    else if (corr === cmd.id && unreadableAnswer(body)) (count++, onResult(t.gate, body));
  };
  client.on('message', onMessage);
  try {
    await client.subscribeAsync(filter, { qos: 1 });
    // No single response topic exists for many gates: each answers on its own
    // …/{gate}/cmd/result (README protocol chapter); correlation data still marks ours.
    await publishCommand(client, { site }, cmd, signer, {});
    await new Promise((r) => setTimeout(r, waitMs));
    return count;
  } finally {
    client.removeListener('message', onMessage);
  }
}

/**
 * A simulated gate that speaks protocol v1 as src/sync does, for the fleet
 * bench and the fleet fault tests: its own hash-chained journal (events
 * built and hashed with the journal's own functions), an at-least-once feed
 * (≤ window unacked events, batches of ≤ batchSize, resent on every
 * reconnect and when no ack makes progress for ackTimeoutMs), signed acks
 * checked with the central keys, `replay` commands answered with a result,
 * a retained status with a last will, a persistent MQTT 5 session. Many of
 * them run in one process; what a real gate adds (SQLite, relays, readers)
 * is not what the central office's scale depends on.
 *
 * The journal is kept in memory from the oldest unacked event on, plus the
 * last hash: enough to resend, and to check central's copy at the end (the
 * chain verified there up to lastSeq with the same last hash is this chain).
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { GENESIS_HASH, eventBody, hashBody } from '../../src/store/journal.js';
import { formatTs } from '../../src/store/time.js';
import type { JournalEvent } from '../../src/store/types.js';
import { noNagle } from '../../src/net.js';
import { openEnvelope } from '../../src/sync/protocol/envelope.js';
import { gateTopics, type GateTopics } from '../../src/sync/protocol/topics.js';

export interface SimGateOptions {
  site: string;
  gate: string;
  url: string;
  centralKeys: ReadonlyMap<string, KeyObject>;
  /** This gate's clock minus the true time (a gate whose clock is off). */
  clockOffsetMs?: number;
  window?: number;
  batchSize?: number;
  ackTimeoutMs?: number;
  statusIntervalMs?: number;
  /** Called for each newly acked event with its publish → ack time. */
  onAcked?: (latencyMs: number) => void;
}

export interface SimGateStats {
  gate: string;
  lastSeq: number;
  lastHash: string;
  ackedSeq: number;
  resends: number;
  badAcks: number;
  /** Ack messages received (signature checked or not). */
  acksReceived: number;
}

export class SimGate {
  readonly topics: GateTopics;
  private client: MqttClient | undefined;
  private seq = 0;
  private lastHash = GENESIS_HASH;
  private acked = 0;
  /** Events ackedSeq+1..seq, and when each was first published (0: not yet). */
  private readonly held: JournalEvent[] = [];
  private readonly sentAt: number[] = [];
  private sentUpTo = 0;
  private lastProgressAt = 0;
  private scheduled = false;
  private resends = 0;
  private badAcks = 0;
  private acksReceived = 0;
  private readonly startedAt = formatTs(Date.now());
  private timers: NodeJS.Timeout[] = [];
  private readonly window: number;
  private readonly batchSize: number;
  private readonly ackTimeoutMs: number;

  constructor(private readonly o: SimGateOptions) {
    this.topics = gateTopics(o.site, o.gate);
    this.window = o.window ?? 2_000;
    this.batchSize = o.batchSize ?? 500;
    this.ackTimeoutMs = o.ackTimeoutMs ?? 10_000;
  }

  /** Connect (persistent session, last will); resolves on the first CONNACK. */
  start(): Promise<void> {
    const { o, topics } = this;
    const client = mqtt.connect(o.url, {
      clientId: `gate-${o.site}-${o.gate}`,
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 7 * 86_400 },
      keepalive: 30,
      reconnectPeriod: 1_000,
      connectTimeout: 30_000,
      // mqtt.js's debug() tracing, called a dozen times per packet, was 3 % of
      // the gates' CPU even when off; the load generator does not trace.
      log: () => {},
      will: { topic: topics.status, payload: Buffer.from(JSON.stringify({ gate: o.gate, site: o.site, online: false })), qos: 1, retain: true },
    });
    this.client = client;
    noNagle(client);
    client.on('error', () => {});
    client.on('message', (topic, payload, packet) => {
      if (topic === topics.eventsAck) this.onAck(payload);
      else if (topic === topics.cmd) this.onCommand(payload, packet.properties?.responseTopic, packet.properties?.correlationData);
    });
    const first = new Promise<void>((resolve) => client.once('connect', () => resolve()));
    client.on('connect', (ack) => {
      if (!ack.sessionPresent) client.subscribe({ [topics.eventsAck]: { qos: 1 }, [topics.cmd]: { qos: 1 } });
      // Everything unacked goes again (central dedupes on (gate, seq)).
      this.sentUpTo = this.acked;
      this.lastProgressAt = Date.now();
      this.publishStatus();
      this.schedule();
    });
    this.timers.push(setInterval(() => this.checkTimeout(), Math.max(100, this.ackTimeoutMs / 4)));
    this.timers.push(setInterval(() => this.publishStatus(), o.statusIntervalMs ?? 10_000));
    return first;
  }

  /** Close the connection cleanly (the will is not sent) or, with `crash`, drop it (the broker sends the will). */
  async stop(crash = false): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    if (crash) c.end(true);
    else {
      if (c.connected) await c.publishAsync(this.topics.status, JSON.stringify({ gate: this.o.gate, site: this.o.site, online: false }), { qos: 1, retain: true }).catch(() => {});
      await c.endAsync().catch(() => c.end(true));
    }
  }

  /** A passage: one access event appended to the chain, sent soon. */
  tap(): void {
    const seq = ++this.seq;
    const ev = {
      type: 'access',
      reader: 'entry',
      direction: seq % 2 ? 'in' : 'out',
      credential: 'card:****' + String(seq % 10_000).padStart(4, '0'),
      personId: `p${seq % 5_000}`,
      granted: true,
      reason: 'GRANTED',
      seq,
      id: randomUUID(),
      ts: formatTs(Date.now() + (this.o.clockOffsetMs ?? 0)),
      gate: this.o.gate,
      prevHash: this.lastHash,
    } as unknown as JournalEvent;
    ev.hash = hashBody(this.lastHash, eventBody(ev));
    this.lastHash = ev.hash;
    this.held.push(ev);
    this.sentAt.push(0);
    this.schedule();
  }

  stats(): SimGateStats {
    return { gate: this.o.gate, lastSeq: this.seq, lastHash: this.lastHash, ackedSeq: this.acked, resends: this.resends, badAcks: this.badAcks, acksReceived: this.acksReceived };
  }

  get pending(): number {
    return this.seq - this.acked;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const c = this.client;
    if (!c?.connected) return;
    for (;;) {
      if (this.sentUpTo < this.acked) this.sentUpTo = this.acked;
      const room = this.window - (this.sentUpTo - this.acked);
      if (room <= 0) return;
      const from = this.sentUpTo - this.acked; // index into held
      const batch = this.held.slice(from, from + Math.min(this.batchSize, room));
      if (batch.length === 0) return;
      if (this.sentUpTo === this.acked) this.lastProgressAt = Date.now();
      const now = Date.now();
      for (let i = from; i < from + batch.length; i++) if (this.sentAt[i] === 0) this.sentAt[i] = now;
      this.sentUpTo = batch[batch.length - 1]!.seq;
      c.publish(this.topics.events, JSON.stringify(batch), { qos: 1 }, () => {});
    }
  }

  private onAck(payload: Buffer): void {
    this.acksReceived++;
    const r = openEnvelope(payload, this.o.centralKeys, 64 * 1024);
    const upTo = r.ok ? (r.body as { upTo?: unknown }).upTo : undefined;
    if (typeof upTo !== 'number' || !Number.isInteger(upTo)) return void this.badAcks++;
    if (upTo <= this.acked) return;
    const n = Math.min(upTo, this.seq) - this.acked;
    const now = Date.now();
    for (let i = 0; i < n; i++) if (this.sentAt[i]! > 0) this.o.onAcked?.(now - this.sentAt[i]!);
    this.held.splice(0, n);
    this.sentAt.splice(0, n);
    this.acked += n;
    this.lastProgressAt = now;
    this.schedule();
  }

  private checkTimeout(): void {
    if (!this.client?.connected || this.sentUpTo <= this.acked) return;
    if (Date.now() - this.lastProgressAt < this.ackTimeoutMs) return;
    this.resends++;
    this.sentUpTo = this.acked;
    this.lastProgressAt = Date.now();
    this.schedule();
  }

  private publishStatus(): void {
    const c = this.client;
    if (!c?.connected) return;
    const status = {
      gate: this.o.gate,
      site: this.o.site,
      online: true,
      mode: 'normal',
      version: 'sim',
      startedAt: this.startedAt,
      ts: formatTs(Date.now() + (this.o.clockOffsetMs ?? 0)),
      whitelistVersion: 1,
      outbox: { pending: this.pending, oldestSeq: this.pending ? this.acked + 1 : null },
      readers: [{ id: 'entry', type: 'pcsc', connected: true }],
      clockSynced: (this.o.clockOffsetMs ?? 0) === 0,
      passKey: 'sim',
    };
    c.publish(this.topics.status, JSON.stringify(status), { qos: 1, retain: true }, () => {});
  }

  /** A signed replay: resend what is still held (acked events are gone from this sim's memory). */
  private onCommand(payload: Buffer, responseTopic: string | undefined, correlationData: Buffer | undefined): void {
    const r = openEnvelope(payload, this.o.centralKeys, 64 * 1024);
    if (!r.ok) return;
    const cmd = r.body as { id?: string; type?: string; fromSeq?: number; toSeq?: number };
    let result: object;
    if (cmd.type === 'replay' && typeof cmd.fromSeq === 'number') {
      const from = Math.max(cmd.fromSeq, this.acked + 1);
      const to = Math.min(cmd.toSeq ?? this.seq, this.seq);
      const evs = this.held.slice(from - this.acked - 1, to - this.acked);
      for (let i = 0; i < evs.length; i += this.batchSize) this.client?.publish(this.topics.events, JSON.stringify(evs.slice(i, i + this.batchSize)), { qos: 1 }, () => {});
      result = evs.length ? { id: cmd.id, ok: true, result: { fromSeq: from, toSeq: to, count: evs.length } } : { id: cmd.id, ok: false, error: { code: 'NOTHING_TO_REPLAY', message: 'nothing held in that range' } };
    } else result = { id: cmd.id, ok: false, error: { code: 'UNSUPPORTED', message: 'the simulated gate answers replay only' } };
    if (responseTopic) this.client?.publish(responseTopic, JSON.stringify(result), { qos: 1, properties: correlationData ? { correlationData } : {} }, () => {});
  }
}

/**
 * The central side of protocol v1 for tests: a real MQTT 5 client that
 * signs what it sends and records what the gate publishes.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { envelopeBytes, signEnvelope } from '../../../src/sync/protocol/envelope.js';
import { generateKeyPair, loadPrivateKey } from '../../../src/sync/protocol/keys.js';
import { gateTopics, siteTopics } from '../../../src/sync/protocol/topics.js';
import type { JournalEvent } from '../../../src/store/types.js';

export const centralKeys = generateKeyPair();
export const centralKey = loadPrivateKey(centralKeys.privatePem);
export const otherKey = loadPrivateKey(generateKeyPair().privatePem);

export async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Received {
  topic: string;
  text: string;
  correlationData?: Buffer;
  retain: boolean;
}

export class TestCentral {
  readonly received: Received[] = [];
  readonly batches: JournalEvent[][] = [];
  readonly gt = gateTopics('s1', 'g1');
  readonly st = siteTopics('s1');
  status: Record<string, unknown> | undefined;
  /** Every status message received, in order. */
  readonly statuses: Array<Record<string, unknown>> = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString();
      const r: Received = { topic, text, retain: packet.retain };
      if (packet.properties?.correlationData) r.correlationData = packet.properties.correlationData;
      this.received.push(r);
      if (topic === this.gt.events) this.batches.push(JSON.parse(text) as JournalEvent[]);
      if (topic === this.gt.status && text) {
        this.status = JSON.parse(text) as Record<string, unknown>;
        this.statuses.push(this.status);
      }
    });
  }

  /** Collector mode: every batch stored by seq, the contiguous prefix acked (as gatectl central does). */
  readonly stored = new Map<number, JournalEvent>();
  private contiguous = 0;

  autoAck(): void {
    this.client.on('message', (topic, payload) => {
      if (topic !== this.gt.events) return;
      for (const e of JSON.parse(payload.toString()) as JournalEvent[]) if (!this.stored.has(e.seq)) this.stored.set(e.seq, e);
      while (this.stored.has(this.contiguous + 1)) this.contiguous++;
      if (this.client.connected) void this.ack(this.contiguous).catch(() => undefined);
    });
  }

  static async connect(url: string, opts: { clientId?: string; clean?: boolean; username?: string; password?: string } = {}): Promise<TestCentral> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      reconnectPeriod: 200,
      clientId: opts.clientId ?? `central-${randomUUID().slice(0, 8)}`,
      clean: opts.clean ?? true,
      ...(opts.username ? { username: opts.username, password: opts.password } : {}),
    });
    const c = new TestCentral(client);
    await client.subscribeAsync({ 'gate/v1/s1/g1/#': { qos: 1 } });
    return c;
  }

  on(topic: string): Received[] {
    return this.received.filter((r) => r.topic === topic);
  }

  /** Every distinct seq received so far, in arrival order of first sight. */
  seqs(): number[] {
    return this.batches.flat().map((e) => e.seq);
  }

  maxSeq(): number {
    return Math.max(0, ...this.seqs());
  }

  signed(body: unknown, key = centralKey, kid = 'k1'): Buffer {
    return envelopeBytes(signEnvelope(body, kid, key));
  }

  async publish(topic: string, payload: Buffer | string, opts: { retain?: boolean; correlationData?: Buffer } = {}): Promise<void> {
    await this.client.publishAsync(topic, payload, {
      qos: 1,
      retain: opts.retain ?? false,
      ...(opts.correlationData ? { properties: { correlationData: opts.correlationData } } : {}),
    });
  }

  ack(upTo: number, key = centralKey): Promise<void> {
    return this.publish(this.gt.eventsAck, this.signed({ upTo }, key));
  }

  /** Send a command and wait for the cmd/result carrying our correlation data. */
  async command(body: Record<string, unknown> | Buffer, opts: { site?: boolean; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    const corr = Buffer.from(randomUUID());
    const payload = Buffer.isBuffer(body) ? body : this.signed(body);
    await this.publish(opts.site ? this.st.cmd : this.gt.cmd, payload, { correlationData: corr });
    const r = await waitFor('cmd/result', () => this.on(this.gt.cmdResult).find((x) => x.correlationData?.equals(corr)), opts.timeoutMs ?? 10_000);
    return JSON.parse(r.text) as Record<string, unknown>;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export function cmd(type: string, fields: Record<string, unknown> = {}, nowMs = Date.now(), ttlMs = 60_000): Record<string, unknown> {
  return {
    id: randomUUID(),
    type,
    issuedAt: new Date(nowMs).toISOString(),
    expiresAt: new Date(nowMs + ttlMs).toISOString(),
    ...fields,
  };
}

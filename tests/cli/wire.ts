/**
 * The gate's end of the wire for gatectl tests: a plain MQTT 5 client on the
 * real broker that sees exactly the bytes a gate would, checks signatures
 * with central's public key, and answers the way protocol v1 says a gate
 * answers. (End-to-end runs against the real gate live in tests/chaos.)
 */
import type { KeyObject } from 'node:crypto';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { openEnvelope } from '../../src/sync/protocol/envelope.js';

export interface Received {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
}

export class Wire {
  readonly seen: Received[] = [];
  private waiters: Array<() => void> = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.seen.push({ topic, payload, packet });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async connect(url: string, clientId = `wire-${Math.random().toString(16).slice(2)}`, auth: { username?: string; password?: string } = {}): Promise<Wire> {
    const client = mqtt.connect(url, { protocolVersion: 5, clientId, reconnectPeriod: 0, ...auth });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return new Wire(client);
  }

  async sub(...topics: string[]): Promise<void> {
    await this.client.subscribeAsync(topics, { qos: 1 });
  }

  /** Wait until a message matching `pred` has been seen (bounded). */
  async waitFor(pred: (r: Received) => boolean, timeoutMs = 10_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.seen.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; seen: ${this.seen.map((s) => s.topic).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Open a central → gate envelope as a gate would; throws when it does not verify. */
export function opened<T = Record<string, unknown>>(payload: Buffer, kid: string, pub: KeyObject): { body: T; bodyText: string } {
  const r = openEnvelope(payload, new Map([[kid, pub]]), 64 * 1024 * 1024);
  if (!r.ok) throw new Error(`envelope refused: ${r.code} ${r.message}`);
  return { body: r.body as T, bodyText: r.bodyText };
}

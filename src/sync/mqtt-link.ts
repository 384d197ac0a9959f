/**
 * The gate's one MQTT 5 connection: persistent session, TLS and password
 * from config, last will, reconnect with back-off.
 *
 * MQTT.js's own reconnect runs at a fixed period and stops for good after a
 * CONNACK refusal (reconnectOnConnackError is false), so it is off
 * (reconnectPeriod 0) and this class schedules every reconnect itself:
 * exponential back-off with jitter, and a slow retry after an auth refusal.
 * Nothing here queues messages across a disconnect: the journal is the
 * outbox (LIBRARIES.md), so publish() while offline fails at once.
 */
import { readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient, type IConnackPacket } from 'mqtt';
import type { Logger } from '../log.js';
import type { MqttConfig } from '../config.js';
import { maximumPacketSize } from './protocol/limits.js';
import { noNagle } from '../net.js';
import { Backoff, jittered } from '../backoff.js';

export interface LinkWill {
  topic: string;
  payload: Buffer;
}

export interface LinkEvents {
  /** Connected; `sessionPresent` false means subscriptions must be made again. */
  up: [sessionPresent: boolean];
  down: [];
  message: [topic: string, payload: Buffer, packet: IPublishPacket];
}

export class LinkError extends Error {
  constructor(
    readonly code: 'OFFLINE' | 'PUBLISH_FAILED' | 'LINK_CLOSED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LinkError';
  }
}

/** CONNACK reason codes that mean "your credentials or client id are refused" (MQTT 5 §3.2.2.2, 3.1.1 rc 4/5). */
const AUTH_REFUSED = new Set([4, 5, 133, 134, 135, 138, 140]);
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const AUTH_RETRY_MS = 5 * 60_000;
/** See handleMessage in start(): 1 ms measured best at 1M credentials (0.5 ms: fetch 31% slower, worst tap no better). */
export const HANDLE_SLICE_MS = 1;

export interface LinkOptions {
  config: MqttConfig;
  clientId: string;
  will: LinkWill;
  log: Logger;
  /**
   * Hold the PUBACK of a message (and with it the reading of further
   * packets: MQTT.js processes them one by one) until the promise settles.
   */
  holdAck?: (topic: string) => Promise<void> | undefined;
  /** Longest run of incoming packets handled without yielding to the event loop (default HANDLE_SLICE_MS; 0: one packet per turn). */
  handleSliceMs?: number;
  /** Override the back-off bounds (tests). */
  backoff?: { minMs?: number; maxMs?: number; authRetryMs?: number };
}

export class MqttLink extends EventEmitter<LinkEvents> {
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private authRefused = false;
  private stopped = false;
  private up = false;
  private readonly pending = new Set<(err: Error) => void>();
  /** Restore the declared Maximum Packet Size before a CONNECT is written (see start()). */
  private rearm: () => void = () => {};

  constructor(private readonly opts: LinkOptions) {
    super();
    this.backoff = new Backoff({ initialMs: opts.backoff?.minMs ?? BACKOFF_MIN_MS, maxMs: opts.backoff?.maxMs ?? BACKOFF_MAX_MS });
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  start(): void {
    const { config, clientId, will, log } = this.opts;
    const declaredMax = maximumPacketSize(config.maxPayloadBytes);
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId,
      // Persistent session: the broker queues deltas and commands while the
      // gate is away. MQTT 5 needs a session expiry > 0 for that, `clean:
      // false` alone is not enough (mqttjs/MQTT.js#1139).
      clean: false,
      // Maximum Packet Size (MQTT 5 §3.1.2.11.4): the broker must not send a
      // larger PUBLISH, so an oversize message is dropped at the broker
      // (mosquitto logs "Dropping too large outgoing PUBLISH") instead of
      // sitting whole in the gate's memory before its size is checked.
      properties: { sessionExpiryInterval: config.sessionExpiryDays * 86_400, maximumPacketSize: declaredMax },
      keepalive: config.keepaliveS,
      connectTimeout: 10_000,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      will: { topic: will.topic, payload: will.payload, qos: 1, retain: true },
    };
    if (config.username !== undefined) options.username = config.username;
    if (config.password !== undefined) options.password = config.password;
    if (config.ca) options.ca = readFileSync(config.ca);
    if (config.cert) options.cert = readFileSync(config.cert);
    if (config.key) options.key = readFileSync(config.key);
    const client = mqtt.connect(config.url, options);
    this.client = client;
    noNagle(client);
    // MQTT.js checks every incoming packet against the same option it
    // declared, counting the whole packet (1 + length bytes + remaining
    // length) and dropping the connection on excess. mosquitto 2.0's check
    // (packet__check_oversize) leaves out the first header byte, so a
    // packet up to one byte larger passes the broker (eclipse/mosquitto#3503
    // reports such gaps). With a persistent session that QoS 1 packet would
    // come again after every reconnect, and the link would never stay up.
    // So once the CONNECT is written, the local check allows the 5 bytes of
    // fixed header; the payload itself is checked exactly (service.ts).
    // (Measured on mosquitto 2.0.11: a 5 246 977-byte packet was forwarded
    // against a declared 5 246 976, tests/sync/oversize.test.ts.)
    const props = (client.options.properties ??= {});
    const loosen = () => void (props.maximumPacketSize = declaredMax + 5);
    loosen(); // MqttClient's constructor has already written the first CONNECT
    client.on('packetsend', (packet) => {
      if (packet.cmd === 'connect') loosen();
    });
    this.rearm = () => void (props.maximumPacketSize = declaredMax);
    const hold = this.opts.holdAck;
    // Incoming packets in slices of about HANDLE_SLICE_MS of the event loop.
    // mqtt.js handles the packets of one socket read back to back in a
    // process.nextTick chain (client.js work → handler → done →
    // nextTick(work)): a burst of retained chunks and acks (0.25–0.5 ms
    // each) held the gate's timers — taps — for up to 10 ms. Once a slice is
    // used up, the next packet's callback waits for setImmediate, so timers
    // and I/O run first. Not after every packet: deferring each one kept
    // packets alive across turns, and at 1M credentials the gate thread then
    // promoted enough to run 15–29 mark-compacts during a snapshot's fetch,
    // where slices ran none under the same conditions (bench/sync, README).
    const sliceMs = this.opts.handleSliceMs ?? HANDLE_SLICE_MS;
    let sliceStart = -Infinity;
    const next = (callback: () => void) => {
      if (performance.now() - sliceStart < sliceMs) return callback();
      setImmediate(() => {
        sliceStart = performance.now();
        callback();
      });
    };
    client.handleMessage = (packet, callback) => {
      const p = hold?.(packet.topic);
      if (p) p.then(() => next(callback), () => next(callback));
      else next(callback);
    };
    client.on('connect', (connack: IConnackPacket) => {
      this.backoff.reset();
      this.authRefused = false;
      this.up = true;
      log.info({ sessionPresent: connack.sessionPresent }, 'mqtt connected');
      this.emit('up', connack.sessionPresent);
    });
    client.on('message', (topic, payload, packet) => this.emit('message', topic, payload, packet));
    client.on('error', (err: Error & { code?: number | string }) => {
      if (typeof err.code === 'number' && AUTH_REFUSED.has(err.code)) {
        this.authRefused = true;
        log.error({ code: err.code, err }, 'mqtt broker refused the gate (check mqtt.username/password/certificate); retrying slowly');
      } else {
        log.warn({ code: err.code, err }, 'mqtt error');
      }
    });
    client.on('close', () => this.onClose());
  }

  private onClose(): void {
    for (const fail of this.pending) fail(new LinkError('LINK_CLOSED', 'connection closed before PUBACK'));
    this.pending.clear();
    if (this.up) {
      this.up = false;
      this.opts.log.warn('mqtt connection lost');
      this.emit('down');
    }
    if (this.stopped || this.timer) return;
    const next = this.backoff.next(); // advances during an auth refusal too, as before
    const delay = jittered(this.authRefused ? (this.opts.backoff?.authRetryMs ?? AUTH_RETRY_MS) : next, 0.25);
    this.opts.log.debug({ delayMs: delay, attempt: this.backoff.attempts }, 'mqtt reconnect scheduled');
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      this.rearm();
      this.client?.reconnect();
    }, delay);
  }

  /** QoS 1 publish, resolved on PUBACK; fails at once when offline and on disconnect. */
  publish(topic: string, payload: Buffer | string, opts: { retain?: boolean; correlationData?: Buffer } = {}): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new LinkError('OFFLINE', 'not connected'));
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      this.pending.add(fail);
      const props = opts.correlationData ? { properties: { correlationData: opts.correlationData } } : {};
      client.publish(topic, payload, { qos: 1, retain: opts.retain ?? false, ...props }, (err) => {
        if (!this.pending.delete(fail)) return; // already failed by close
        if (err) reject(new LinkError('PUBLISH_FAILED', err.message, { cause: err }));
        else resolve();
      });
    });
  }

  subscribe(topics: string[]): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new LinkError('OFFLINE', 'not connected'));
    const map = Object.fromEntries(topics.map((t) => [t, { qos: 1 as const }]));
    return client.subscribeAsync(map).then((granted) => {
      const bad = granted.filter((g) => g.qos > 2);
      if (bad.length) throw new LinkError('PUBLISH_FAILED', `subscription refused: ${bad.map((b) => b.topic).join(', ')}`);
    });
  }

  /** Fails when offline: the caller must know the subscriptions may still be in the session. */
  unsubscribe(topics: string[]): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new LinkError('OFFLINE', 'not connected'));
    return client.unsubscribeAsync(topics).then(() => undefined);
  }

  /** Publish `last` (the offline status) if connected, then disconnect; bounded. */
  async stop(last?: { topic: string; payload: Buffer }, timeoutMs = 2_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const client = this.client;
    if (!client) return;
    const bounded = <T>(p: Promise<T>) =>
      Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((r) => setTimeout(r, timeoutMs).unref())]);
    if (last && client.connected) await bounded(this.publish(last.topic, last.payload, { retain: true }));
    await bounded(client.endAsync(false));
    if (!client.disconnected) await client.endAsync(true).catch(() => undefined);
  }
}

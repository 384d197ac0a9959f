/**
 * The reference collector behind `gatectl central`. It shares the event
 * feed with the other collectors of its group ($share/<group>/…, MQTT 5
 * shared subscription), stores events idempotently by (gate, seq), acks the
 * highest contiguous seq of each gate (signed), and when a gap stops moving
 * asks the gate to replay it. Collectors of one group must open the same
 * database: the ack of a gate covers what ANY of them stored.
 */
import { hostname } from 'node:os';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../log.js';
import { CentralStore, type GateChainState } from '../../store/central/central.js';
import { sqliteCollectorStore, type CollectorStore, type IngestBatch } from '../../store/central/collector-store.js';
import type { JournalEvent } from '../../store/types.js';
import { coalesceWrites, noNagle } from '../../net.js';
import { AckPacer } from './ack-pacer.js';
import { laneOf, storableText, transient } from './collector-rules.js';
import { envelopeBytes, signEnvelope } from '../../sync/protocol/envelope.js';
import { describeZodError, eventsBatchSchema, registrationSchema, statusSchema, willSchema } from '../../sync/protocol/schemas.js';
import { gateTopics, parseGateTopic } from '../../sync/protocol/topics.js';
import { mqttOptions, type BrokerOptions, type SigningKey } from '../broker-options.js';
import { buildCommand, publishCommand } from '../command-request.js';

export interface CollectorDeps {
  /** SQLite (one machine) or PostgreSQL (collectors on several hosts): see store/central/collector-store.ts. */
  store: CollectorStore | CentralStore;
  broker: BrokerOptions;
  signer: SigningKey;
  log: Logger;
  /** Shared-subscription group (default "central"). */
  group?: string;
  /** A gap that has not moved for this long is asked for with a replay command (default 10 s). */
  gapGraceMs?: number;
  now?: () => number;
}

const MAX_PAYLOAD = 32 * 1024 * 1024;
/** Store calls at once for other messages (statuses, registrations, bad payloads). */
const OTHER_CONCURRENCY = 4;
/** Event batches: this many lanes, one store call each at a time, a gate always in the same lane. */
const LANES = 6;
/** At most this many waiting event batches (and about this many events) go to the store in one call. */
const GROUP_BATCHES = 1_000;
const GROUP_EVENTS = 5_000;
/**
 * Load shedding: above this many received events not yet stored, new event
 * batches are dropped unacked (the gate resends them after its ack timeout;
 * nothing is lost). Without a bound a collector slower than the feed queued
 * without end, its queue outgrew the gates' ack timeout, every gate resent
 * its whole window, and the duplicates buried the feed (measured in
 * bench/fleet). Pausing the socket instead was worse: the collector's own
 * acks then waited for PUBACKs it no longer read, and no gate was acked.
 */
const SHED_ABOVE_EVENTS = 10_000;
/** Gate statuses are written together at most this often. */
const STATUS_FLUSH_MS = 500;
/** A store that fails (PostgreSQL restarting) is retried with back-off this long before the message is dropped unacked (the gate resends). */
const RETRY_FOR_MS = 20_000;

export class Collector {
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly progress = new Map<string, { contiguous: number; since: number }>();
  private readonly reportedBreaks = new Set<string>();
  private readonly group: string;
  private readonly now: () => number;
  private readonly store: CollectorStore;
  private connectedOnce = false;
  private running = 0;
  private readonly waiting: Array<() => Promise<void>> = [];
  private readonly lanes: IngestBatch[][] = Array.from({ length: LANES }, () => []);
  private readonly laneBusy: boolean[] = new Array<boolean>(LANES).fill(false);
  private queuedEvents = 0;
  private shedCount = 0;
  private shedLoggedAt = 0;
  private readonly statuses = new Map<string, { site: string; gate: string; status: { online?: unknown }; at: number }>();
  private statusTimer: NodeJS.Timeout | undefined;
  private flushingStatuses: Promise<void> | undefined;
  private readonly acks: AckPacer;
  private chasing = false;
  private stopping = false;

  constructor(private readonly deps: CollectorDeps) {
    this.group = deps.group ?? 'central';
    this.now = deps.now ?? Date.now;
    this.store = deps.store instanceof CentralStore ? sqliteCollectorStore(deps.store) : deps.store;
    this.acks = new AckPacer((site, gate, upTo) => this.sendAck(site, gate, upTo), this.now);
  }

  /** Messages received and not yet stored (queued or in a store call). */
  get backlog(): number {
    return this.running + this.waiting.length + this.lanes.reduce((t, q) => t + q.length, 0) + this.laneBusy.filter(Boolean).length;
  }

  /** Resolves once connected and subscribed the first time; keeps reconnecting after that. */
  async start(): Promise<void> {
    const { broker, log } = this.deps;
    // Clean start, no persistent session: mosquitto 2.0.11 restores a
    // persistent session's $share subscription after a restart without ever
    // delivering to it again, even when subscribed anew (seen in
    // tests/chaos/broker-restart.test.ts). Nothing is lost without a
    // session: gates keep every event until it is acked and resend it.
    const client = mqtt.connect(
      broker.url,
      mqttOptions(broker, {
        clientId: broker.clientId ?? `gatectl-central-${this.group}-${hostname()}-${process.pid}`,
        clean: true,
        reconnectPeriod: 1_000,
      }),
    );
    this.client = client;
    noNagle(client);
    coalesceWrites(client);
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => log.warn({ err }, 'broker error'));
    client.on('offline', () => log.warn('broker offline; reconnecting'));
    const subscribed = new Promise<void>((resolve) => {
      client.on('connect', () => {
        const share = `$share/${this.group}/gate/v1/+/+`;
        client
          .subscribeAsync(
            { [`${share}/events`]: { qos: 1 }, [`${share}/alerts`]: { qos: 1 }, [`${share}/registrations`]: { qos: 1 }, 'gate/v1/+/+/status': { qos: 1 } },
          )
          .then(() => {
            log.info({ group: this.group, reconnect: this.connectedOnce }, 'collector subscribed');
            this.connectedOnce = true;
            resolve();
          })
          .catch((err: Error) => log.error({ err }, 'subscribe failed'));
      });
    });
    this.timer = setInterval(() => {
      if (this.chasing) return;
      this.chasing = true;
      this.chaseGaps()
        .catch((err: Error) => log.warn({ err: err.message }, 'gap check failed'))
        .finally(() => (this.chasing = false));
    }, 1_000);
    this.timer.unref();
    this.statusTimer = setInterval(() => void this.flushStatuses(), STATUS_FLUSH_MS);
    this.statusTimer.unref();
    await subscribed;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    clearInterval(this.statusTimer);
    const c = this.client;
    this.client = undefined;
    if (c) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([c.endAsync().catch(() => {}), new Promise<void>((r) => (t = setTimeout(r, 5_000)))]);
      clearTimeout(t);
      if (!c.disconnected) c.end(true);
    }
    // Let the store calls under way finish (bounded) before the caller closes the store.
    const until = Date.now() + 10_000;
    while ((this.running > 0 || this.laneBusy.some(Boolean) || this.chasing) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await this.flushStatuses().catch(() => {});
    this.waiting.length = 0;
    for (const q of this.lanes) q.length = 0;
    this.queuedEvents = 0;
    this.acks.stop();
  }

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseGateTopic(topic);
    if (!t) return;
    // Event batches are checked here and wait in their own queue, so that
    // the batches of many gates that arrived meanwhile are stored in one
    // store transaction (one commit for all of them on PostgreSQL).
    if (t.rest === 'events' || t.rest === 'alerts') {
      const batch = this.parseEvents(t.site, t.gate, t.rest, payload);
      if (batch) {
        if (this.queuedEvents > SHED_ABOVE_EVENTS) this.shed(batch);
        else {
          this.lanes[laneOf(batch.gate, LANES)]!.push(batch);
          this.queuedEvents += batch.events.length;
        }
      }
    } else this.waiting.push(() => this.handle(topic, payload));
    this.pump();
  }

  private pump(): void {
    if (this.stopping) return;
    while (this.running < OTHER_CONCURRENCY && this.waiting.length > 0) this.run(this.waiting.shift()!, () => this.running--, () => this.running++);
    // One store call at a time per lane; a gate always falls in the same lane,
    // so this collector's concurrent transactions never wait on each other's
    // gate row locks (measured: 1,000 gates' batches in overlapping groups
    // queued every transaction behind the others).
    for (let lane = 0; lane < LANES; lane++) {
      const q = this.lanes[lane]!;
      if (this.laneBusy[lane] || q.length === 0) continue;
      let k = 0;
      let n = 0;
      // One splice, not a shift per batch (each shift moves the whole queue).
      while (k < q.length && k < GROUP_BATCHES && n < GROUP_EVENTS) n += q[k++]!.events.length;
      const group = q.splice(0, k);
      this.queuedEvents -= n;
      this.run(() => this.storeBatches(group), () => (this.laneBusy[lane] = false), () => (this.laneBusy[lane] = true));
    }
  }

  private run(job: () => Promise<void>, done: () => void, start: () => void): void {
    start();
    void job().finally(() => {
      done();
      this.pump();
    });
  }

  /** Write the latest status of every gate heard from since the last flush, in one store call. */
  private flushStatuses(): Promise<void> {
    if (this.flushingStatuses || this.statuses.size === 0) return this.flushingStatuses ?? Promise.resolve();
    const list = [...this.statuses.values()];
    this.statuses.clear();
    this.flushingStatuses = this.retrying('status', list[0]!.gate, () => this.store.saveStatuses(list))
      .catch((err: Error) => {
        this.deps.log.warn({ gates: list.length, err: err.message }, 'statuses not stored; the next ones will be');
        for (const x of list) if (!this.statuses.has(x.gate)) this.statuses.set(x.gate, x);
      })
      .finally(() => (this.flushingStatuses = undefined));
    return this.flushingStatuses;
  }

  /** Drop a batch unacked (the gate resends it); say so at most every 5 s. */
  private shed(batch: IngestBatch): void {
    this.shedCount += batch.events.length;
    const now = this.now();
    if (now - this.shedLoggedAt < 5_000) return;
    this.deps.log.warn({ events: this.shedCount, queued: this.queuedEvents }, 'store behind the feed: event batches dropped unacked (the gates resend them)');
    this.shedLoggedAt = now;
    this.shedCount = 0;
  }

  /** Run a store call, retrying with back-off while the store is unreachable (a PostgreSQL restart). */
  private async retrying<T>(what: string, gate: string, fn: () => Promise<T>): Promise<T> {
    const until = Date.now() + RETRY_FOR_MS;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      try {
        return await fn();
      } catch (err) {
        if (this.stopping || Date.now() + delay > until || !transient(err)) throw err;
        this.deps.log.warn({ gate, what, err: (err as Error).message, retryInMs: delay }, 'store unavailable; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async handle(topic: string, payload: Buffer): Promise<void> {
    const t = parseGateTopic(topic);
    if (!t) return;
    const { log } = this.deps;
    if (payload.length > MAX_PAYLOAD) return void log.warn({ gate: t.gate, bytes: payload.length }, 'oversize message ignored');
    let json: unknown;
    try {
      json = payload.length ? JSON.parse(payload.toString('utf8')) : undefined;
    } catch {
      return void this.bad(t.gate, t.rest, 'not JSON');
    }
    try {
      if (t.rest === 'registrations') await this.onRegistration(t.site, t.gate, json);
      else if (t.rest === 'status' && json !== undefined) await this.onStatus(t.site, t.gate, json);
    } catch (err) {
      log.error({ gate: t.gate, topic: t.rest, err }, 'message not stored');
    }
  }

  private async bad(gate: string, what: string, why: string): Promise<void> {
    this.deps.log.warn({ gate, topic: what, why }, 'bad message ignored');
    await this.store.noteAnomaly(gate, null, 'bad_payload', `${what}: ${why}`, this.now());
  }

  /** A checked batch of one gate's events, or undefined (noted as a bad payload). */
  private parseEvents(site: string, gate: string, rest: string, payload: Buffer): IngestBatch | undefined {
    const reject = (why: string): undefined => void this.waiting.push(() => this.bad(gate, rest, why).catch(() => {}));
    if (payload.length > MAX_PAYLOAD) return void this.deps.log.warn({ gate, bytes: payload.length }, 'oversize message ignored');
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return reject('not JSON');
    }
    // An alert is one journal event sent ahead of the backlog: stored like any other.
    const r = eventsBatchSchema.safeParse(rest === 'alerts' ? [json] : json);
    if (!r.success) return reject(describeZodError(r.error));
    if (r.data.some((e) => e.gate !== gate)) return reject('an event names another gate than its topic');
    // Stored as a column beside the canonical body: text no database keeps
    // as is (NUL, a lone UTF-16 surrogate) would fail or be altered there,
    // and fail the whole group of gates stored in that transaction.
    if (r.data.some((e) => !storableText(e.id))) return reject('an event id is not storable text (NUL or a lone surrogate)');
    return { site, gate, events: r.data as unknown as JournalEvent[] };
  }

  private async storeBatches(group: IngestBatch[]): Promise<void> {
    let results;
    try {
      results = await this.retrying('events', group[0]!.gate, () => this.store.ingestMany(group, this.now()));
    } catch (err) {
      // Not acked: every gate in the group resends after its ack timeout.
      this.deps.log.error({ gates: new Set(group.map((b) => b.gate)).size, err: (err as Error).message }, 'events not stored');
      return;
    }
    const upTo = new Map<string, { site: string; seq: number }>();
    for (const [i, res] of results.entries()) {
      const { site, gate } = group[i]!;
      if (res.conflicts) this.deps.log.error({ gate, conflicts: res.conflicts }, 'events differ from the stored ones with the same seq');
      this.noteBreak(res.state);
      const u = upTo.get(gate);
      if (!u || u.seq < res.state.contiguousSeq) upTo.set(gate, { site, seq: res.state.contiguousSeq });
      this.deps.log.debug({ gate, inserted: res.inserted, duplicates: res.duplicates, upTo: res.state.contiguousSeq }, 'events stored');
    }
    // Ack even when everything was a duplicate: the gate resends because it missed our ack.
    for (const [gate, u] of upTo) if (u.seq > 0) this.ack(u.site, gate, u.seq);
  }

  /** Ack paced per gate (cli/central/ack-pacer.ts): at most one signature per gate per gap. */
  private ack(site: string, gate: string, upTo: number): void {
    this.acks.ack(site, gate, upTo);
  }

  private sendAck(site: string, gate: string, upTo: number): void {
    const body = envelopeBytes(signEnvelope({ upTo }, this.deps.signer.kid, this.deps.signer.key));
    this.client
      ?.publishAsync(gateTopics(site, gate).eventsAck, body, { qos: 1 })
      .then(() => this.store.recordAck(gate, upTo))
      .catch((err: Error) => this.deps.log.warn({ gate, upTo, err }, 'ack not sent; the gate will resend'));
  }

  private noteBreak(st: GateChainState): void {
    if (st.brokenSeq === undefined || this.reportedBreaks.has(st.gate)) return;
    this.reportedBreaks.add(st.gate);
    this.deps.log.error({ gate: st.gate, seq: st.brokenSeq, reason: st.brokenReason }, 'hash chain broken');
  }

  private async onRegistration(site: string, gate: string, json: unknown): Promise<void> {
    const r = registrationSchema.safeParse(json);
    if (!r.success) return this.bad(gate, 'registrations', describeZodError(r.error));
    const reg = r.data;
    const fresh = await this.retrying('registrations', gate, () => this.store.saveRegistration(site, gate, reg.id, reg, this.now()));
    const body = envelopeBytes(signEnvelope({ id: r.data.id }, this.deps.signer.kid, this.deps.signer.key));
    this.client?.publishAsync(gateTopics(site, gate).registrationsAck, body, { qos: 1 }).catch((err: Error) => {
      this.deps.log.warn({ gate, err }, 'registration ack not sent; the gate will resend');
    });
    // The registration id only: the message carries names and phones.
    this.deps.log.info({ gate, registration: r.data.id, fresh }, 'registration stored');
  }

  private async onStatus(site: string, gate: string, json: unknown): Promise<void> {
    const r = statusSchema.safeParse(json);
    const w = r.success ? undefined : willSchema.safeParse(json);
    if (!r.success && !w?.success) return this.bad(gate, 'status', describeZodError(r.error));
    const status = (r.success ? r.data : w!.data) as { online?: unknown };
    // The latest status of each gate is written with the others every
    // STATUS_FLUSH_MS: a thousand gates' statuses were a thousand commits
    // (fsync each) competing with the events (measured in bench/fleet).
    this.statuses.set(gate, { site, gate, status, at: this.now() });
    const j = r.success ? r.data.journal : undefined;
    if (j && (await this.retrying('status', gate, () => this.store.adoptCheckpoint(site, gate, j.checkpointSeq, j.checkpointHash, this.now())))) {
      const st = (await this.store.state(gate))!;
      this.deps.log.warn({ gate, checkpointSeq: j.checkpointSeq, upTo: st.contiguousSeq }, 'events purged by the gate before they were stored here; resumed from its checkpoint');
      this.noteBreak(st);
      this.ack(site, gate, st.contiguousSeq);
    }
  }

  /**
   * A gap that stopped moving: ask the gate to replay from the first missing
   * seq. Every collector of the group watches; the one whose claim in the
   * store wins asks, the others see the claim and stay quiet for the grace.
   */
  private async chaseGaps(): Promise<void> {
    if (!this.client?.connected) return;
    const now = this.now();
    const grace = this.deps.gapGraceMs ?? 10_000;
    const gapped = await this.store.gapped();
    const seen = new Set<string>();
    for (const st of gapped) {
      seen.add(st.gate);
      const p = this.progress.get(st.gate);
      if (!p || p.contiguous !== st.contiguousSeq) {
        this.progress.set(st.gate, { contiguous: st.contiguousSeq, since: now });
        continue;
      }
      if (now - p.since < grace) continue;
      if (!(await this.store.claimReplay(st.gate, st.contiguousSeq, now, grace))) continue;
      const gap = (await this.store.gaps(st.gate, 1))[0];
      if (!gap || !this.client) continue;
      const cmd = buildCommand({ type: 'replay', fromSeq: gap.from, toSeq: gap.to }, now, 10 * 60_000);
      this.deps.log.warn({ gate: st.gate, fromSeq: gap.from, toSeq: gap.to }, 'gap in the event feed; replay requested');
      publishCommand(this.client, { site: st.site, gate: st.gate }, cmd, this.deps.signer).catch((err: Error) =>
        this.deps.log.warn({ gate: st.gate, err }, 'replay request not sent'),
      );
    }
    for (const g of this.progress.keys()) if (!seen.has(g)) this.progress.delete(g);
  }
}

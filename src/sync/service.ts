/**
 * SyncService: the gate side of MQTT protocol v1 (DESIGN.md). It only
 * listens to the orchestrator's events and reads the journal; all
 * publishing happens off the hot path, asynchronously, and a broker that is
 * down or slow changes nothing for decisions.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { IPublishPacket } from 'mqtt';
import type { Config, MqttConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Clock } from '../types.js';
import type { GateControl } from '../controller/gate-api.js';
import type { Store } from '../store/index.js';
import type { JournalEvent } from '../store/types.js';
import type { Outbox } from '../store/outbox.js';
import type { SeenCommands } from '../store/seen-commands.js';
import type { RegistrationOutbox } from '../store/registrations.js';
import type { SnapshotApplier } from '../store/snapshot.js';
import type { PersonEraser } from '../store/erase.js';
import { gateTopics, siteTopics, type GateTopics, type SiteTopics } from './protocol/topics.js';
import { deltaSchema, eventsAckSchema, manifestSchema, registrationsAckSchema } from './protocol/schemas.js';
import { MqttLink } from './mqtt-link.js';
import { EventFeed } from './event-feed.js';
import { CommandHandler } from './commands.js';
import { WhitelistSync } from './whitelist-sync.js';
import { StatusPublisher, willMessage } from './status.js';
import { RegistrationFeed } from './registration-feed.js';
import { JournalRetention } from './retention.js';
import { loadCentralKeys, openSigned, Rejections } from './inbound.js';
import { AckCoalescer } from './ack-coalescer.js';

export interface SyncDeps {
  config: Config;
  /** The parts of store/index.ts Store that sync uses. */
  store: Pick<Store, 'journal' | 'whitelist' | 'settings' | 'outbox' | 'registrations' | 'seenCommands' | 'snapshotChunks' | 'snapshotApplier' | 'eraser'>;
  gate: GateControl;
  log: Logger;
  clock: Clock;
  /** Shared with the admin area, which add()s to it; default: the store's (openStore's clock). */
  registrations?: RegistrationOutbox;
  /** Software version in the status (the composition root passes package.json's, src/daemon/version.ts). */
  version: string;
  /** Default: systemd-timesyncd's /run/systemd/timesync/synchronized exists. */
  clockSynced?: () => boolean;
  /**
   * purge-person removes the person's photo from `${dataDir}/photos/`.
   * Default: the folder of `storage.path` (main.ts's data directory).
   */
  dataDir?: string;
  /** WalCheckpointer.room(): a snapshot apply waits on it between transactions (store/snapshot.ts). */
  walRoom?: () => Promise<void>;
  /** Test hooks: reconnect back-off, chunk refetch delay. */
  tuning?: { backoffMinMs?: number; backoffMaxMs?: number; authRetryMs?: number; refetchMs?: number; retentionFirstRunMs?: number };
}

const DAY_MS = 86_400_000;

export class SyncService {
  readonly outbox: Outbox;
  readonly registrations: RegistrationOutbox;
  private readonly log: Logger;
  private link: MqttLink | undefined;
  private feed: EventFeed | undefined;
  private status: StatusPublisher | undefined;
  private whitelistSync: WhitelistSync | undefined;
  private regFeed: RegistrationFeed | undefined;
  private commands: CommandHandler | undefined;
  private retention: JournalRetention;
  private rejections: Rejections;
  private readonly seen: SeenCommands;
  private readonly applier: SnapshotApplier;
  private readonly unhook: Array<() => void> = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private cleaning: Promise<void> = Promise.resolve();
  private acks: AckCoalescer | undefined;
  private gt: GateTopics | undefined;
  private st: SiteTopics | undefined;

  constructor(private readonly deps: SyncDeps) {
    const { store, gate, clock, config } = deps;
    // Named by the composition root (daemon/services.ts: component 'sync').
    this.log = deps.log;
    this.outbox = store.outbox;
    this.registrations = deps.registrations ?? store.registrations;
    this.seen = store.seenCommands;
    this.applier = store.snapshotApplier({ walRoom: deps.walRoom });
    this.rejections = new Rejections({ gate, log: this.log, clock });
    this.retention = new JournalRetention({
      journal: store.journal,
      outbox: this.outbox,
      gate,
      eventsDays: config.privacy.retention.eventsDays,
      log: this.log,
      clock,
    });
  }

  start(): void {
    const { config, store, gate, clock } = this.deps;
    const tuning = this.deps.tuning ?? {};
    const site = config.gate.site;
    const gateId = config.gate.id;
    this.at(tuning.retentionFirstRunMs ?? 60_000, () => void this.runRetention());
    this.every(DAY_MS, () => void this.runRetention());
    this.every(3_600_000, () => this.seen.prune(clock()));
    this.cleaning = this.applier.cleanup().catch((err: Error) => this.log.warn({ err }, 'snapshot leftovers not cleaned'));
    const mqttCfg: MqttConfig | undefined = config.mqtt;
    if (!mqttCfg) {
      this.log.info('no mqtt section in config: central sync is off');
      return;
    }
    const keys = loadCentralKeys(config.central.keys);
    if (keys.size === 0) this.log.warn('central.keys is empty: every message from central will be refused');
    const gt = (this.gt = gateTopics(site, gateId));
    const st = (this.st = siteTopics(site));
    const chunkPrefix = st.chunk(0).slice(0, -1);
    const link = (this.link = new MqttLink({
      config: mqttCfg,
      clientId: mqttCfg.clientId ?? `gate-${site}-${gateId}`,
      will: { topic: gt.status, payload: Buffer.from(JSON.stringify(willMessage(gateId, site))) },
      log: this.log,
      holdAck: (topic) => (topic.startsWith(chunkPrefix) ? this.whitelistSync?.intakeIdle() : undefined),
      backoff: { minMs: tuning.backoffMinMs, maxMs: tuning.backoffMaxMs, authRetryMs: tuning.authRetryMs },
    }));
    this.status = new StatusPublisher({
      gate,
      outbox: this.outbox,
      whitelist: store.whitelist,
      link,
      topic: gt.status,
      site,
      gateId,
      version: this.deps.version,
      clockSynced: this.deps.clockSynced ?? (() => existsSync('/run/systemd/timesync/synchronized')),
      retentionHeld: () => this.retention.held(),
      journalCheckpoint: () => store.journal.checkpoint(),
      intervalS: mqttCfg.statusIntervalS,
      log: this.log,
      clock,
    });
    const changed = () => this.status?.changed();
    this.feed = new EventFeed({
      outbox: this.outbox,
      journal: store.journal,
      link,
      topics: { events: gt.events, alerts: gt.alerts },
      log: this.log,
      clock,
      options: { window: mqttCfg.window, batchSize: mqttCfg.batchSize, ackTimeoutMs: mqttCfg.ackTimeoutMs },
      onChange: changed,
      onOverAck: (upTo, sentUpTo) =>
        this.rejections.report({
          topic: 'events/ack',
          code: 'ACK_BEYOND_SENT',
          message: `events/ack upTo ${upTo} is beyond the last published event ${sentUpTo}: clamped`,
          detail: { upTo, sentUpTo },
        }),
    });
    this.whitelistSync = new WhitelistSync({
      whitelist: store.whitelist,
      chunks: store.snapshotChunks,
      applier: this.applier,
      gate,
      link,
      topics: st,
      log: this.log,
      clock,
      rejections: this.rejections,
      onChange: changed,
      keys,
      maxBytes: mqttCfg.maxPayloadBytes,
      walRoom: this.deps.walRoom,
      settings: store.settings,
      ...(tuning.refetchMs ? { refetchMs: tuning.refetchMs } : {}),
    });
    this.regFeed = new RegistrationFeed({
      outbox: this.registrations,
      link,
      topic: gt.registrations,
      ackTimeoutMs: mqttCfg.ackTimeoutMs,
      log: this.log,
      clock,
    });
    this.commands = new CommandHandler({
      gate,
      seen: this.seen,
      eraser: store.eraser(this.deps.dataDir ?? dirname(resolve(config.storage.path))),
      feed: this.feed,
      link,
      resultTopic: gt.cmdResult,
      keys,
      maxBytes: mqttCfg.maxPayloadBytes,
      rejections: this.rejections,
      log: this.log,
      clock,
    });

    const onEvent = (ev: JournalEvent) => {
      this.feed?.notify();
      changed();
      if (ev.type === 'visitor_registered') this.regFeed?.notify();
    };
    const onAlert = (ev: JournalEvent) => this.feed?.alert(ev);
    const onState = () => setImmediate(() => this.status?.publishNow());
    gate.on('event', onEvent);
    gate.on('alert', onAlert);
    gate.on('mode', onState);
    gate.on('reader', onState);
    this.unhook.push(
      () => gate.off('event', onEvent),
      () => gate.off('alert', onAlert),
      () => gate.off('mode', onState),
      () => gate.off('reader', onState),
    );

    link.on('up', () => void this.onUp());
    link.on('message', (topic, payload, packet) => this.route(topic, payload, packet, keys, mqttCfg.maxPayloadBytes));
    this.feed.start();
    this.status.start();
    this.whitelistSync.start();
    this.regFeed.start();
    link.start();
  }

  async stop(): Promise<void> {
    for (const u of this.unhook.splice(0)) u();
    for (const t of this.timers.splice(0)) clearTimeout(t);
    this.feed?.stop();
    this.status?.stop();
    this.regFeed?.stop();
    await this.whitelistSync?.stop();
    await this.cleaning;
    if (this.link && this.gt) {
      const { id, site } = this.deps.config.gate;
      await this.link.stop({ topic: this.gt.status, payload: Buffer.from(JSON.stringify(willMessage(id, site))) });
    }
  }

  /** Central messages refused since start (journaled or suppressed by the rate limit). */
  rejectionCount(): number {
    return this.rejections.count;
  }

  get connected(): boolean {
    return this.link?.connected ?? false;
  }

  /** The daily retention pass (also run ~1 min after start). */
  runRetention() {
    return this.retention.run().catch((err: Error) => {
      this.log.error({ err }, 'journal retention failed');
      throw err;
    });
  }

  /** The status as it would be published now. */
  statusMessage() {
    return this.status?.build();
  }

  private async onUp(): Promise<void> {
    const link = this.link!;
    const gt = this.gt!;
    const st = this.st!;
    // Subscribe on every connect, session or not: it is idempotent, and the
    // retained manifest comes again, so a restart never misses a snapshot.
    try {
      await link.subscribe([gt.eventsAck, gt.registrationsAck, gt.cmd, st.cmd, st.manifest, st.delta]);
    } catch (err) {
      this.log.warn({ err }, 'subscribe failed');
    }
    this.status?.publishNow();
    this.feed?.onConnect();
    this.regFeed?.notify(true);
    this.whitelistSync?.onConnect();
  }

  private route(topic: string, payload: Buffer, packet: IPublishPacket, keys: ReturnType<typeof loadCentralKeys>, max: number): void {
    const gt = this.gt!;
    const st = this.st!;
    try {
      // Commands check their size first themselves (and answer an oversize one).
      if (topic === gt.cmd) return this.commands!.handle('cmd', payload, packet);
      if (topic === st.cmd) return this.commands!.handle('site/cmd', payload, packet);
      // An empty retained payload is a broker-side delete, not a message.
      if (payload.length === 0) return;
      // Size before anything reads the payload, on every topic: the broker
      // already drops packets past the declared Maximum Packet Size (mqtt-link.ts),
      // this is the exact bound on what may be parsed, queued or handed to a worker.
      if (payload.length > max) {
        const rel =
          topic === gt.eventsAck ? 'events/ack'
          : topic === gt.registrationsAck ? 'registrations/ack'
          : topic === st.manifest ? 'whitelist/manifest'
          : topic === st.delta ? 'whitelist/delta'
          : topic.startsWith(st.chunk(0).slice(0, -1)) ? 'whitelist/chunk'
          : 'other';
        this.rejections.report({ topic: rel, code: 'OVERSIZE', message: `payload of ${payload.length} bytes exceeds ${max}` });
        return;
      }
      if (topic === gt.eventsAck) {
        this.acks ??= new AckCoalescer({
          open: (p) => openSigned(p, keys, max, eventsAckSchema),
          apply: (upTo) => this.feed?.onAck(upTo),
          reject: (code, message) => this.rejections.report({ topic: 'events/ack', code, message }),
          maxBytes: max,
        });
        this.acks.push(payload);
        return;
      }
      if (topic === gt.registrationsAck) {
        const m = openSigned(payload, keys, max, registrationsAckSchema);
        if (m.ok) this.regFeed!.onAck(m.body.id);
        else this.rejections.report({ topic: 'registrations/ack', code: m.code, message: m.message });
        return;
      }
      if (topic === st.manifest) {
        const m = openSigned(payload, keys, max, manifestSchema);
        if (m.ok) this.whitelistSync!.onManifest(m.body);
        else this.rejections.report({ topic: 'whitelist/manifest', code: m.code, message: m.message });
        return;
      }
      if (topic === st.delta) {
        const m = openSigned(payload, keys, max, deltaSchema);
        if (m.ok) this.whitelistSync!.onDelta(m.body);
        else this.rejections.report({ topic: 'whitelist/delta', code: m.code, message: m.message });
        return;
      }
      if (topic.startsWith(st.chunk(0).slice(0, -1))) {
        this.whitelistSync!.enqueueChunk(topic, payload);
        return;
      }
      this.log.debug({ topic }, 'message on an unexpected topic ignored');
    } catch (err) {
      this.log.error({ topic, err }, 'central message handling failed');
    }
  }

  private at(ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }
}

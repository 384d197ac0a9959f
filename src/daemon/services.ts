/**
 * The optional services main.ts starts after the gate: MQTT sync (when
 * `mqtt` is configured) and the admin page (when `admin.listen` is set).
 * Each is imported only when configured, so a gate without them starts
 * without loading fastify, sharp or mqtt.
 */
import { isLoopbackHost, type Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Component } from './lifecycle.js';
import type { Store } from '../store/index.js';
import type { Gate } from '../controller/gate.js';
import type { GateKey } from '../credentials/gate-key.js';
import type { Clock } from '../types.js';
import type { DeskCardReader } from '../drivers/types.js';
import { signPass } from '../credentials/pass.js';
import { VERSION } from './version.js';

export interface ServiceDeps {
  config: Config;
  store: Store;
  gate: Gate;
  gateKey: GateKey;
  idHashKey: Buffer;
  dataDir: string;
  log: Logger;
  clock: Clock;
  /** The reception desk's ID card readers (`use: desk`), for the registration form. */
  deskReaders?: DeskCardReader[];
  /** The WAL checkpointer's backpressure for bulk writes (snapshot apply). */
  walRoom?: () => Promise<void>;
}

export async function optionalServices(deps: ServiceDeps): Promise<Component[]> {
  const { config, store, gate, log, clock } = deps;
  const components: Component[] = [];
  const registrations = store.registrations;
  let syncStatus: (() => { connected: boolean; pending: number; oldestSeq?: number }) | undefined;

  if (config.mqtt) {
    const { SyncService } = await import('../sync/service.js');
    const sync = new SyncService({
      config,
      store,
      gate,
      log: log.child({ component: 'sync' }),
      clock,
      registrations,
      version: VERSION,
      // Central's purge-person takes the photo file too, not only the rows.
      dataDir: deps.dataDir,
      walRoom: deps.walRoom,
    });
    syncStatus = () => {
      const outbox = sync.statusMessage()?.outbox;
      return { connected: sync.connected, pending: outbox?.pending ?? 0, ...(typeof outbox?.oldestSeq === "number" ? { oldestSeq: outbox.oldestSeq } : {}) };
    };
    components.push({ name: 'sync', start: async () => sync.start(), stop: () => sync.stop() });
  }

  if (config.admin.listen) {
    const host = config.admin.listen.slice(0, config.admin.listen.lastIndexOf(':'));
    if (!config.admin.tls && !isLoopbackHost(host)) {
      log.warn({ listen: config.admin.listen }, 'admin page on plain HTTP beyond loopback (admin.allowPlainHttp): passwords and session cookies cross the network in clear');
    }
    const { AdminService } = await import('../admin/service.js');
    const admin = new AdminService(
      {
        gate,
        store,
        registrations,
        ...(syncStatus ? { syncStatus } : {}),
        passSigner: { sign: (body) => signPass(body, deps.gateKey.privateKey) },
        idHashKey: deps.idHashKey,
        ...(deps.deskReaders?.length ? { deskReader: deps.deskReaders[0] } : {}),
        dataDir: deps.dataDir,
        log: log.child({ component: 'admin' }),
        clock,
        visitLimits: { maxAdvanceDays: config.admin.maxAdvanceDays, maxVisitDays: config.admin.maxVisitDays },
      },
      { listen: config.admin.listen, visitorDays: config.privacy.retention.visitorDays, tls: config.admin.tls },
    );
    components.push({ name: 'admin', start: () => admin.start(), stop: () => admin.stop() });
  }
  return components;
}

/** One gate (real Store in a temp dir + TestGate + SyncService) against a broker URL. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../../src/config.js';
import { silentLogger, createLogger } from '../../../src/log.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { SyncService, type SyncDeps } from '../../../src/sync/service.js';
import { TestGate } from './test-gate.js';
import { centralKeys } from './central.js';

export interface GateHarness {
  store: Store;
  gate: TestGate;
  sync: SyncService;
  config: Config;
  dir: string;
  clock: { now: number | undefined };
  /** Stop the service and close the store (keeps the dir for a restart). */
  stop(): Promise<void>;
  /** Another service on the same database (a restart). */
  restart(): Promise<GateHarness>;
  dispose(): Promise<void>;
}

export async function startGate(
  url: string,
  mqtt: Record<string, unknown> = {},
  extra: { dir?: string; tuning?: SyncDeps['tuning']; config?: Record<string, unknown>; clock?: { now: number | undefined }; walRoom?: SyncDeps['walRoom']; log?: SyncDeps['log'] } = {},
): Promise<GateHarness> {
  const dir = extra.dir ?? mkdtempSync(join(tmpdir(), 'gc-sync-'));
  const config = parseConfig({
    gate: { id: 'g1', site: 's1' },
    storage: { path: join(dir, 'gate.db') },
    mqtt: { url, keepaliveS: 5, ackTimeoutMs: 2_000, ...mqtt },
    central: { keys: { k1: centralKeys.publicPem } },
    privacy: { idHashKey: '00112233445566778899aabbccddeeff' },
    ...extra.config,
  });
  const clockState = extra.clock ?? { now: undefined };
  const clock = () => clockState.now ?? Date.now();
  const store = openStore({ path: config.storage.path, synchronous: 'normal', gateId: 'g1', clock });
  const gate = new TestGate(store, clock);
  const log = extra.log ?? (process.env.SYNC_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger());
  const sync = new SyncService({
    config, store, gate, log, clock, version: '0.1.0-test', clockSynced: () => true, walRoom: extra.walRoom,
    tuning: { backoffMinMs: 100, backoffMaxMs: 1_000, authRetryMs: 500, refetchMs: 1_000, retentionFirstRunMs: 3_600_000, ...extra.tuning },
  });
  sync.start();
  let stopped = false;
  const h: GateHarness = {
    store, gate, sync, config, dir, clock: clockState,
    async stop() {
      if (stopped) return;
      stopped = true;
      await sync.stop();
      store.close();
    },
    async restart() {
      await h.stop();
      return startGate(url, mqtt, { ...extra, dir, clock: clockState });
    },
    async dispose() {
      await h.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

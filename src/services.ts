/**
 * The optional services main.ts starts after the gate: MQTT sync (when
 * `mqtt` is configured) and the admin page (when `admin.listen` is set).
 */
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Component } from './lifecycle.js';
import type { Store } from './store/index.js';
import type { Gate } from './controller/gate.js';
import type { GateKey } from './gate-key.js';
import type { Clock } from './drivers/types.js';

export interface ServiceDeps {
  config: Config;
  store: Store;
  gate: Gate;
  gateKey: GateKey;
  idHashKey: Buffer;
  dataDir: string;
  log: Logger;
  clock: Clock;
}

export async function optionalServices(_deps: ServiceDeps): Promise<Component[]> {
  return [];
}

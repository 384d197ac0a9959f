#!/usr/bin/env node
/**
 * gate-controller — the composition root. The only file that wires concrete
 * drivers to the rest. Starts components in order (relays to their safe
 * state before anything else), stops them in reverse, one shutdown path.
 *
 *   gate-controller --config /etc/gate-controller/config.yaml
 *   gate-controller            (no config: the simulation profile)
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ConfigError, loadConfigFile, type Config } from './config.js';
import { createLogger, type Logger } from './log.js';
import { Lifecycle, installShutdown, type Component } from './daemon/lifecycle.js';
import { openStore, type Store } from './store/index.js';
import { WalCheckpointer } from './store/checkpointer.js';
import { SQLITE_DRIVER } from './store/sqlite-driver.js';
import { buildGpio } from './drivers/gpio/index.js';
import type { GpioSet } from './drivers/types.js';
import { buildDeskReaders, buildReaders } from './drivers/readers/index.js';
import { SimSamReaders, simCard, simSamPaths } from './daemon/simulation-sam.js';
import { Gate } from './controller/gate.js';
import { idKey } from './credentials/resident-id.js';
import { loadOrCreateGateKey } from './credentials/gate-key.js';
import { loadPublicKey } from './sync/protocol/keys.js';
import { SdNotify } from './daemon/sd-notify.js';
import { Health } from './daemon/health.js';
import { VERSION } from './daemon/version.js';
import * as sim from './daemon/simulation.js';
import { PRIVATE_UMASK, secureDataDir, tightenDataFiles } from './daemon/data-dir.js';
import { optionalServices } from './daemon/services.js';
import { missingNodeFlags, NODE_FLAGS } from './daemon/runtime-flags.js';

const DEFAULT_CONFIG = '/etc/gate-controller/config.yaml';

interface Args {
  config?: string;
  dataDir: string;
  /** Simulation profile only: where the admin page listens (default 127.0.0.1:8080). */
  adminListen?: string;
}

function parseCli(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      'data-dir': { type: 'string' },
      'admin-listen': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: gate-controller [--config FILE] [--data-dir DIR]\n' +
        `  --config FILE   YAML config (default ${DEFAULT_CONFIG} when it exists)\n` +
        '  no config       the simulation profile: simulated GPIO and a terminal reader, data in ./data\n' +
        '  --admin-listen HOST:PORT   simulation profile: the admin page address (default 127.0.0.1:8080)\n',
    );
    process.exit(0);
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    process.exit(0);
  }
  const config = values.config ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined);
  return { config, dataDir: values['data-dir'] ?? './data', ...(values['admin-listen'] ? { adminListen: values['admin-listen'] } : {}) };
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const args = parseCli(argv);
  const simulation = !args.config;
  let config: Config;
  const samPaths = simulation ? simSamPaths(args.dataDir) : undefined;
  try {
    config = args.config ? loadConfigFile(args.config) : sim.simulationConfig(args.dataDir, samPaths, args.adminListen);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gate-controller: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }

  const centralKeys = Object.entries(config.central.keys).map(([kid, text]) => {
    try {
      return loadPublicKey(text);
    } catch (err) {
      process.stderr.write(`gate-controller: central.keys.${kid}: ${(err as Error).message}\n`);
      process.exit(78);
    }
  });

  // Everything this process creates (database, WAL, -shm, photos, keys, logs) is its own alone,
  // whatever umask it was started with (docs/security.md, "Files at rest").
  process.umask(PRIVATE_UMASK);
  const logFile = resolve(args.dataDir, 'gate.log');
  const log: Logger = simulation
    ? createLogger({ level: config.log.level, destination: pino.destination({ dest: logFile, sync: false, mkdir: true }) })
    : createLogger({ level: config.log.level });
  const clock = () => Date.now();
  const lifecycle = new Lifecycle(log);

  // Relays to their safe state before anything else: a killed predecessor may
  // have left one energized (a door unlocked) while the database opens.
  let gpio: GpioSet;
  try {
    gpio = buildGpio(config.gpio, { log: log.child({ component: 'gpio' }), clock });
  } catch (err) {
    log.fatal({ err }, 'GPIO start failed');
    process.stderr.write(`gate-controller: GPIO: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const narrator = simulation ? new sim.OutputNarrator(process.stdout) : undefined;
  if (narrator) gpio = narrateOutputs(gpio, narrator);
  try {
    await lifecycle.startAll([{ name: 'gpio', start: () => gpio.start(), stop: () => gpio.stop() }]);
  } catch (err) {
    log.fatal({ err }, 'GPIO start failed');
    process.stderr.write(`gate-controller: GPIO: ${(err as Error).message}\n`);
    process.exit(1);
  }

  let store: Store;
  try {
    const dataDir = dirname(resolve(config.storage.path));
    secureDataDir(dataDir, log);
    tightenDataFiles(resolve(config.storage.path), dataDir);
    store = openStore({ path: config.storage.path, synchronous: config.storage.synchronous, gateId: config.gate.id, clock });
  } catch (err) {
    log.fatal({ err, path: config.storage.path }, 'cannot open the database');
    process.stderr.write(`gate-controller: cannot open ${config.storage.path}: ${(err as Error).message}\n`);
    await lifecycle.stopAll();
    process.exit(1);
  }

  const idHashKey = Buffer.from(config.privacy.idHashKey, 'hex');
  const gateKey = loadOrCreateGateKey(store.settings);
  const passKeys = [gateKey.publicKey, ...centralKeys];

  let terminal: sim.Terminal | undefined;
  let gateRef: Gate | undefined;
  const simSam = samPaths ? new SimSamReaders(samPaths) : undefined;
  if (simulation) {
    terminal = new sim.Terminal(process.stdin, process.stdout, {
      ...(simSam
        ? {
            idCard: (number: string) => {
              simSam.tap(simCard(number, clock()));
              return true;
            },
            deskCard: (arg: string | undefined) => {
              if (arg === 'off') return simSam.desk(undefined), 'desk reader: card taken away';
              if (arg === 'expired') return simSam.desk(simCard(sim.DEMO_ID_NUMBER, clock(), { expired: true })), 'desk reader: an expired ID card is on it';
              const number = arg ?? sim.DEMO_ID_NUMBER;
              if (!/^[0-9]{17}[0-9Xx]$/.test(number)) return 'usage: !desk [ID number] | expired | off';
              simSam.desk(simCard(number, clock()));
              return 'desk reader: an ID card is on it for 30 s';
            },
          }
        : {}),
      passage: () => pulseInput(gpio, 'passage'),
      door: (open) => injectInput(gpio, 'door', open),
      fire: (active) => injectInput(gpio, 'fireAlarm', active),
      tamper: () => pulseInput(gpio, 'tamper'),
      setMode: (mode) => gateRef?.setMode(mode, 'terminal', { operator: 'terminal', source: 'local' }),
    });
  }
  const readers = buildReaders(config.readers, { log: log.child({ component: 'reader' }), clock, input: terminal?.readerInput });
  const deskReaders = buildDeskReaders(config.readers, { log: log.child({ component: 'desk-reader' }), clock });

  const gate = new Gate({
    options: {
      gateId: config.gate.id,
      site: config.gate.site,
      version: VERSION,
      access: config.access,
      pulseMs: { in: config.gpio.relays.entry?.pulseMs ?? 500, out: config.gpio.relays.exit?.pulseMs ?? 500 },
      idHashKey,
    },
    store,
    readers,
    gpio,
    passKeys: () => passKeys,
    passKeyPem: gateKey.publicPem,
    log: log.child({ component: 'gate' }),
    clock,
  });
  gateRef = gate;

  if (simulation) {
    const demo = sim.seedDemo(store, gateKey, (n) => idKey(n, idHashKey), clock());
    sim.writeDemoTokens(args.dataDir, demo);
    sim.printWelcome(process.stdout, demo, {
      dataDir: resolve(args.dataDir),
      admin: config.admin.listen,
      logFile,
      sam: simSam !== undefined,
    });
    gate.on('event', (ev) =>
      process.stdout.write(sim.narrateEvent(ev, ev.reason === 'DUPLICATE_TAP' || ev.escortedBy ? undefined : gate.indicator.pattern) + '\n'),
    );
    // Input a reader could not read (garbage typed, a bad frame) is said on the terminal too, not only in the log.
    for (const reader of readers) reader.on('rejected', (reason) => process.stdout.write(sim.narrateRejected(reader.id, reason) + '\n'));
  }

  const notify = new SdNotify({ env: process.env, log: log.child({ component: 'sd-notify' }) });
  const checkpointer = new WalCheckpointer({ path: config.storage.path, synchronous: config.storage.synchronous, log: log.child({ component: 'wal' }) });
  // Checkpoints wait for a quiet moment: their fsyncs would hold up a tap's commit.
  gate.on('event', () => checkpointer.noteWrite());
  const components: Component[] = [
    { name: 'wal-checkpointer', start: async () => checkpointer.start(), stop: async () => checkpointer.stop() },
    ...(simSam ? [{ name: 'sim-sam-readers', start: () => simSam.start(), stop: () => simSam.stop() }] : []),
    { name: 'gate', start: () => gate.start(), stop: () => gate.stop('shutdown') },
    ...readers.map((r) => ({ name: `reader:${r.id}`, start: () => r.start(), stop: () => r.stop() })),
    ...deskReaders.map((r) => ({ name: `desk-reader:${r.id}`, start: () => r.start(), stop: () => r.stop() })),
    ...(terminal ? [{ name: 'terminal', start: () => terminal.start(), stop: () => terminal.stop() }] : []),
    ...(await optionalServices({
      config, store, gate, gateKey, idHashKey, dataDir: dirname(resolve(config.storage.path)), log, clock, deskReaders,
      walRoom: () => checkpointer.room(),
    })),
  ];

  const shutdown = async (): Promise<void> => {
    void notify.stopping();
    notify.stop();
    await lifecycle.stopAll();
    store.close();
    log.info('stopped');
    log.flush();
  };
  installShutdown({ log, timeoutMs: 10_000, shutdown });

  try {
    await lifecycle.startAll(components);
  } catch (err) {
    log.fatal({ err }, 'start failed');
    process.stderr.write(`gate-controller: start failed: ${(err as Error).message}\n`);
    await shutdown();
    process.exit(1);
  }
  const health = new Health({ clock, readerGraceMs: 5 * 60_000, maxLoopDelayMs: 5_000 });
  health.start(gate.status().readers);
  gate.on('reader', (state) => health.reader(state));
  void notify.ready();
  notify.startWatchdog(() => {
    const h = health.check();
    if (!h.healthy) log.error({ why: h.why }, 'unhealthy: withholding the watchdog ping');
    return h.healthy;
  });
  log.info({ gate: config.gate.id, site: config.gate.site, simulation, gpio: gpio.backend, version: VERSION, node: process.version, sqlite: SQLITE_DRIVER }, 'ready');
  const missing = missingNodeFlags();
  if (missing.length) {
    log.warn({ missing, expected: NODE_FLAGS }, 'node was started without the runtime flags the unit file uses: decisions may wait on garbage collection (see README, Performance)');
  }
}

function narrateOutputs(gpio: GpioSet, n: sim.OutputNarrator): GpioSet {
  const o = gpio.outputs;
  return {
    ...gpio,
    outputs: {
      entry: o.entry && n.wrap('relay:entry', o.entry),
      exit: o.exit && n.wrap('relay:exit', o.exit),
      green: o.green,
      red: o.red,
      buzzer: o.buzzer,
    },
    start: () => gpio.start(),
    stop: () => gpio.stop(),
  };
}

type InputName = keyof GpioSet['inputs'];
function injectInput(gpio: GpioSet, name: InputName, active: boolean): void {
  const input = gpio.inputs[name] as { inject?: (a: boolean) => void } | undefined;
  if (!input?.inject) throw new Error(`no simulated ${name} input`);
  input.inject(active);
}
function pulseInput(gpio: GpioSet, name: InputName): void {
  injectInput(gpio, name, true);
  setTimeout(() => injectInput(gpio, name, false), 100);
}

main().catch((err: unknown) => {
  process.stderr.write(`gate-controller: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

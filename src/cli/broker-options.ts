/**
 * The broker connection every gatectl broker command shares: the same
 * TLS/auth options as the gate's `mqtt:` config, plus the central signing
 * key (--key-file/--kid). Secrets may come from the environment so they do
 * not show in the process list: GATECTL_PASSWORD.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { hostname } from 'node:os';
import type { KeyObject } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { noNagle } from '../net.js';
import { loadPrivateKey } from '../sync/protocol/keys.js';
import { CliError } from './cli-error.js';
import { str, type OptionSpec, type Parsed } from './args.js';

export const BROKER_OPTIONS: OptionSpec = {
  url: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'client-id': { type: 'string' },
};

export const SIGNING_OPTIONS: OptionSpec = {
  'key-file': { type: 'string' },
  kid: { type: 'string' },
};

export const BROKER_HELP = `Broker options (the same as the gate's mqtt: config):
  --url URL            mqtt://host:1883 or mqtts://host:8883 (env GATECTL_URL)
  --username NAME      (env GATECTL_USERNAME)
  --password TEXT      (env GATECTL_PASSWORD, preferred: not visible in ps)
  --ca FILE            CA certificate (PEM) to check the broker
  --cert FILE --key FILE  client certificate and its key (PEM)
  --client-id ID       MQTT client id (default: gatectl-<host>-<pid>)
Signing options (central's Ed25519 key, see gatectl keygen):
  --key-file FILE      private key PEM (env GATECTL_KEY_FILE)
  --kid KID            key id the gates know it by (default: FILE's name before .key.pem)`;

export interface BrokerOptions {
  url: string;
  username?: string;
  password?: string;
  ca?: string;
  cert?: string;
  key?: string;
  clientId?: string;
}

export function brokerOptions(p: Parsed, env: NodeJS.ProcessEnv = process.env): BrokerOptions {
  const url = str(p, 'url') ?? env.GATECTL_URL;
  if (!url) throw new CliError('BAD_ARGS', '--url is required (or set GATECTL_URL)', 2);
  if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(url)) throw new CliError('BAD_ARGS', `--url: expected mqtt://, mqtts://, ws:// or wss://, got "${url}"`, 2);
  const o: BrokerOptions = { url };
  const set = (k: keyof BrokerOptions, v: string | undefined) => {
    if (v !== undefined) o[k] = v;
  };
  set('username', str(p, 'username') ?? env.GATECTL_USERNAME);
  set('password', str(p, 'password') ?? env.GATECTL_PASSWORD);
  set('ca', str(p, 'ca'));
  set('cert', str(p, 'cert'));
  set('key', str(p, 'key'));
  set('clientId', str(p, 'client-id'));
  return o;
}

function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new CliError('FILE_UNREADABLE', `--${what} ${path}: ${(cause as Error).message}`, 1, { cause });
  }
}

export function mqttOptions(o: BrokerOptions, extra: Partial<IClientOptions> = {}): IClientOptions {
  return {
    protocolVersion: 5,
    clientId: o.clientId ?? `gatectl-${hostname()}-${process.pid}`,
    connectTimeout: 10_000,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.ca ? { ca: readPem('ca', o.ca) } : {}),
    ...(o.cert ? { cert: readPem('cert', o.cert) } : {}),
    ...(o.key ? { key: readPem('key', o.key) } : {}),
    ...extra,
  };
}

/**
 * Connect once for a one-shot command: resolves when connected, rejects with
 * BROKER_UNREACHABLE (refused, bad credentials, timeout) without retrying.
 */
export async function connectOnce(o: BrokerOptions, timeoutMs = 10_000): Promise<MqttClient> {
  const client = mqtt.connect(o.url, mqttOptions(o, { reconnectPeriod: 0, clean: true, connectTimeout: timeoutMs }));
  noNagle(client);
  return new Promise<MqttClient>((resolve, reject) => {
    const fail = (why: string, cause?: unknown) => {
      clearTimeout(timer);
      client.end(true);
      reject(new CliError('BROKER_UNREACHABLE', `cannot connect to ${o.url}: ${why}`, 1, { cause }));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    client.once('connect', () => {
      clearTimeout(timer);
      client.removeAllListeners('error');
      client.removeAllListeners('close');
      // Later errors surface through the failing publish/subscribe calls.
      client.on('error', () => {});
      resolve(client);
    });
    client.once('error', (err) => fail(err.message, err));
    client.once('close', () => fail('connection closed'));
  });
}

export interface SigningKey {
  kid: string;
  key: KeyObject;
}

export function signingKey(p: Parsed, env: NodeJS.ProcessEnv = process.env): SigningKey {
  const file = str(p, 'key-file') ?? env.GATECTL_KEY_FILE;
  if (!file) throw new CliError('BAD_ARGS', '--key-file is required (central signing key, see gatectl keygen)', 2);
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new CliError('FILE_UNREADABLE', `--key-file ${file}: ${(cause as Error).message}`, 1, { cause });
  }
  let key: KeyObject;
  try {
    key = loadPrivateKey(pem);
  } catch (cause) {
    throw new CliError('BAD_KEY', `--key-file ${file}: ${(cause as Error).message}`, 1, { cause });
  }
  const fromName = /^(.+)\.key\.pem$/.exec(basename(file))?.[1];
  const kid = str(p, 'kid') ?? fromName;
  if (!kid) throw new CliError('BAD_ARGS', '--kid is required (the key file is not named <kid>.key.pem)', 2);
  return { kid, key };
}


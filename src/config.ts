/**
 * Configuration: one zod schema holds every key, its default and its check.
 * An invalid file stops the daemon at start with a message naming the key,
 * e.g. `readers[1].baudRate: expected one of 9600, 19200, 38400, 57600, 115200`.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_MAX_PAYLOAD_BYTES } from './sync/protocol/limits.js';

export const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;

const line = z.strictObject({
  /** BCM line number (GPIOxx), not the header pin and not the sysfs number. */
  line: z.number().int().min(0).max(53),
  activeLow: z.boolean().default(false),
});
const relay = line.extend({
  pulseMs: z.number().int().min(50).max(60_000).default(500),
});
const input = line.extend({
  debounceMs: z.number().int().min(0).max(1_000).default(20),
  /** cdev only: the line's bias set by the kernel; absent = left as the chip has it. */
  bias: z.enum(['pull-up', 'pull-down', 'disabled']).optional(),
});

const idLike = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, _ or -');

const reader = z
  .strictObject({
    id: idLike,
    type: z.enum(['pcsc', 'serial', 'sim']),
    /** Required for a gate reader; a desk reader (use: desk) opens no passage. */
    direction: z.enum(['in', 'out']).optional(),
    /** gate: a reader at the passage; desk: the reception desk's ID card reader (serial, format sam). */
    use: z.enum(['gate', 'desk']).default('gate'),
    /** serial: device path, best a /dev/serial/by-id/… link. */
    path: z.string().min(1).optional(),
    /** Default 9600, or 115200 for format sam. */
    baudRate: z
      .number()
      .refine((b) => (BAUD_RATES as readonly number[]).includes(b), {
        message: `expected one of ${BAUD_RATES.join(', ')}`,
      })
      .optional(),
    /** serial: what one line holds, or `sam` for a resident ID card reader speaking the SAM binary protocol. */
    format: z.enum(['hex', 'dec', 'wiegand26', 'id', 'qr', 'sam']).default('hex'),
    /** sam: how often the reader is asked whether a card is on it. */
    pollMs: z.number().int().min(50).max(5_000).default(250),
    /** pcsc: only readers whose PC/SC name contains this text (default: any). */
    name: z.string().optional(),
    /** Repeated reads of one credential inside this window are one tap. */
    repeatMs: z.number().int().min(0).max(60_000).default(1_500),
  })
  .superRefine((r, ctx) => {
    if (r.use === 'gate' && !r.direction) ctx.addIssue({ code: 'custom', path: ['direction'], message: 'required for a gate reader' });
    if (r.use === 'desk' && (r.type !== 'serial' || r.format !== 'sam')) {
      ctx.addIssue({ code: 'custom', path: ['use'], message: 'a desk reader is a serial reader with format sam' });
    }
    if (r.format === 'sam' && r.type !== 'serial') ctx.addIssue({ code: 'custom', path: ['format'], message: 'format sam needs type serial' });
  })
  .transform((r) => ({
    ...r,
    direction: r.direction ?? ('in' as const),
    baudRate: r.baudRate ?? (r.format === 'sam' ? 115_200 : 9_600),
  }));

const hexKey = z.string().regex(/^[0-9a-fA-F]{32,}$/, 'expected at least 16 bytes as hex');

export const configSchema = z.strictObject({
  gate: z.strictObject({ id: idLike, site: idLike }),
  storage: z
    .strictObject({
      path: z.string().min(1).default('/var/lib/gate-controller/gate.db'),
      synchronous: z.enum(['normal', 'full']).default('normal'),
    })
    .prefault({}),
  mqtt: z
    .strictObject({
      url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'expected an mqtt://, mqtts://, ws:// or wss:// URL'),
      username: z.string().optional(),
      password: z.string().optional(),
      /** File paths (PEM). */
      ca: z.string().optional(),
      cert: z.string().optional(),
      key: z.string().optional(),
      clientId: z.string().optional(),
      keepaliveS: z.number().int().min(5).max(600).default(30),
      sessionExpiryDays: z.number().int().min(7).max(365).default(14),
      statusIntervalS: z.number().int().min(5).max(3600).default(60),
      ackTimeoutMs: z.number().int().min(500).max(600_000).default(10_000),
      /** Max events published and not yet acked by central. */
      window: z.number().int().min(1).max(100_000).default(2_000),
      batchSize: z.number().int().min(1).max(500).default(500),
      /**
       * Largest central message (signed envelope) accepted; the gate declares
       * it (plus the PUBLISH overhead) as its MQTT 5 Maximum Packet Size, so
       * the broker drops larger ones instead of sending them. Default 5 MiB:
       * the largest whitelist chunk gatectl makes, with margin (sync/protocol/limits.ts).
       */
      maxPayloadBytes: z.number().int().min(1_024).max(256 * 1024 * 1024).default(DEFAULT_MAX_PAYLOAD_BYTES),
    })
    .optional(),
  central: z
    .strictObject({
      /** kid → Ed25519 public key, SPKI PEM or base64 of the 32 raw bytes. */
      keys: z.record(z.string(), z.string().min(1)).default({}),
    })
    .prefault({}),
  privacy: z
    .strictObject({
      /** HMAC-SHA256 key for resident ID numbers, hex. Required: there is no safe default. */
      idHashKey: hexKey,
      retention: z
        .strictObject({
          eventsDays: z.number().int().min(1).max(3650).default(180),
          visitorDays: z.number().int().min(1).max(3650).default(30),
        })
        .prefault({}),
    }),
  readers: z.array(reader).default([]),
  gpio: z
    .strictObject({
      /**
       * cdev: the kernel's GPIO character device (/dev/gpiochipN, uAPI v2);
       * onoff: sysfs GPIO (older kernels); auto: cdev where /dev/gpiochip*
       * exists, else onoff; sim: no hardware (the default off the Pi).
       */
      backend: z.enum(['auto', 'cdev', 'onoff', 'sim']).default('sim'),
      /** cdev only: the chip by label or /dev/gpiochipN path; absent = the Pi's main controller by label. */
      chip: z.string().min(1).optional(),
      /** sim only: append every output change to this file (synchronously). */
      trace: z.string().optional(),
      /** onoff only: where sysfs GPIO lives (tests point it at a temp dir). */
      sysfsRoot: z.string().default('/sys/class/gpio'),
      relays: z
        .strictObject({ entry: relay.optional(), exit: relay.optional() })
        .prefault({}),
      leds: z.strictObject({ green: line.optional(), red: line.optional() }).prefault({}),
      buzzer: line.optional(),
      inputs: z
        .strictObject({
          passage: input.optional(),
          door: input.optional(),
          exitButton: input.optional(),
          fireAlarm: input.optional(),
          tamper: input.optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  access: z
    .strictObject({
      /** A grant with no passage within this time is recorded as not passed. */
      passageTimeoutMs: z.number().int().min(500).max(120_000).default(8_000),
      /** A second tap of the same credential inside this window is DUPLICATE_TAP. */
      duplicateTapMs: z.number().int().min(0).max(60_000).default(3_000),
      /** Deny entering twice without leaving (needs separate in/out readers). */
      antiPassback: z.boolean().default(true),
      /** How long an escorted visitor waits for a staff/security tap at the same reader. */
      escortWindowMs: z.number().int().min(1_000).max(600_000).default(30_000),
      /** Door open longer than this after a passage is door_held. */
      doorHeldMs: z.number().int().min(1_000).max(600_000).default(30_000),
    })
    .prefault({}),
  admin: z
    .strictObject({
      /** "host:port"; absent = no admin page. */
      listen: z.string().regex(/^[^:]+:\d{1,5}$/, 'expected "host:port"').optional(),
      /** Serve the page over HTTPS: PEM file paths (scripts/install-pi.sh makes a self-signed pair). */
      tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
      /** Plain HTTP on a non-loopback address: only when this says so (passwords and cookies cross the LAN in clear). */
      allowPlainHttp: z.boolean().default(false),
      /** A visitor's window may start at most this many days ahead … */
      maxAdvanceDays: z.number().int().min(1).max(365).default(30),
      /** … and last at most this many days. */
      maxVisitDays: z.number().int().min(1).max(365).default(30),
    })
    .prefault({}),
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ReaderConfig = Config['readers'][number];
export type GpioConfig = Config['gpio'];
export type MqttConfig = NonNullable<Config['mqtt']>;
export type RelayConfig = z.infer<typeof relay>;
export type InputConfig = z.infer<typeof input>;
export type LineConfig = z.infer<typeof line>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    message: string,
    readonly issues: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** `readers[1].baudRate` from zod's path array. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

/** Validate an already-parsed object; throws ConfigError naming every bad key. */
export function parseConfig(raw: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (result.success) {
    checkCrossFields(result.data, source);
    return result.data;
  }
  const issues = result.error.issues.map((i) => `${formatPath(i.path)}: ${describeIssue(i)}`);
  throw new ConfigError(`${source} is invalid:\n  ${issues.join('\n  ')}`, issues);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map(String).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) return 'required';
  return issue.message;
}

function checkCrossFields(cfg: Config, source: string): void {
  const issues: string[] = [];
  const seen = new Set<string>();
  cfg.readers.forEach((r, i) => {
    if (seen.has(r.id)) issues.push(`readers[${i}].id: duplicate reader id "${r.id}"`);
    seen.add(r.id);
    if (r.type === 'serial' && !r.path) issues.push(`readers[${i}].path: required for a serial reader`);
  });
  const lines = new Map<number, string>();
  const claim = (key: string, l?: { line: number }) => {
    if (!l) return;
    const other = lines.get(l.line);
    if (other) issues.push(`${key}.line: BCM ${l.line} is already used by ${other}`);
    else lines.set(l.line, key);
  };
  const g = cfg.gpio;
  claim('gpio.relays.entry', g.relays.entry);
  claim('gpio.relays.exit', g.relays.exit);
  claim('gpio.leds.green', g.leds.green);
  claim('gpio.leds.red', g.leds.red);
  claim('gpio.buzzer', g.buzzer);
  for (const [k, v] of Object.entries(g.inputs)) claim(`gpio.inputs.${k}`, v);
  const listenHost = cfg.admin.listen?.slice(0, cfg.admin.listen.lastIndexOf(':'));
  if (listenHost !== undefined && !cfg.admin.tls && !cfg.admin.allowPlainHttp && !isLoopbackHost(listenHost)) {
    issues.push(
      `admin.listen: "${cfg.admin.listen}" is not a loopback address; serve the page over HTTPS (admin.tls: {cert, key}) ` +
        'or set admin.allowPlainHttp: true to send passwords and session cookies over the LAN in clear',
    );
  }
  if (issues.length) throw new ConfigError(`${source} is invalid:\n  ${issues.join('\n  ')}`, issues);
}

/** localhost, 127.0.0.0/8 or ::1: the only addresses plain HTTP may listen on by default. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/** Read and validate a YAML file. */
export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read config ${path}: ${(cause as Error).message}`, [], { cause });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    throw new ConfigError(`${path} is not valid YAML: ${(cause as Error).message}`, [], { cause });
  }
  return parseConfig(raw, path);
}

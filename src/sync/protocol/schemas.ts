/**
 * zod schemas of every JSON shape of DESIGN.md "MQTT protocol v1".
 * Central → gate bodies are checked after their envelope signature holds;
 * gate → central shapes are exported so collectors (gatectl central) can
 * check what they receive. Unknown extra fields are dropped, not refused, so
 * a newer central can add fields without breaking older gates.
 */
import { z } from 'zod';
import { EVENT_TYPES } from '../../store/types.js';
import { MAX_PHOTO_CHARS } from './limits.js';

const MAX_ID = 128;
const id = z.string().min(1).max(MAX_ID);
const isoTime = z.iso.datetime({ offset: true });
const seq = z.number().int().min(1);
const version = z.number().int().min(0);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
const text = z.string().min(1).max(500);

// ---------------------------------------------------------------- whitelist
export const personKindSchema = z.enum(['staff', 'visitor', 'contractor', 'security']);

export const personSchema = z.object({
  id,
  kind: personKindSchema,
  name: z.string().min(1).max(200),
  hostId: id.optional(),
  escort: z.boolean().optional(),
  /** base64 JPEG. */
  photo: z.string().max(MAX_PHOTO_CHARS).optional(),
});

/** Normalized credential key: `card:`, `id:` or `pass:` then no whitespace. */
export const credentialKeySchema = z.string().regex(/^(card|id|pass):\S{1,256}$/, 'expected card:…, id:… or pass:…');

export const credentialSchema = z.object({
  key: credentialKeySchema,
  personId: id,
  status: z.enum(['active', 'suspended', 'blacklisted']),
  validFrom: isoTime.optional(),
  validTo: isoTime.optional(),
  maxEntries: z.number().int().min(0).optional(),
  scheduleId: id.optional(),
});

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'expected "HH:MM"');
export const scheduleSchema = z.object({
  id,
  windows: z.array(
    z.object({ days: z.array(z.number().int().min(1).max(7)).min(1).max(7), from: hhmm, to: hhmm }),
  ),
  holidays: z.array(z.iso.date()).default([]),
});

const whitelistData = {
  people: z.array(personSchema).optional(),
  credentials: z.array(credentialSchema).optional(),
  schedules: z.array(scheduleSchema).optional(),
};

export const deltaSchema = z
  .object({
    version: version.min(1),
    baseVersion: version,
    upsert: z.object(whitelistData).default({}),
    delete: z
      .object({
        people: z.array(id).optional(),
        credentials: z.array(credentialKeySchema).optional(),
        schedules: z.array(id).optional(),
      })
      .default({}),
  })
  .refine((d) => d.version > d.baseVersion, { message: 'version must be greater than baseVersion', path: ['version'] });

export const manifestSchema = z.object({
  version: version.min(1),
  /** Number of chunks, indexes 0..chunks-1. */
  chunks: z.number().int().min(0).max(1_000_000),
  sha256: hex64,
  createdAt: isoTime,
});

export const chunkSchema = z.object({
  version: version.min(1),
  index: z.number().int().min(0),
  people: z.array(personSchema).default([]),
  credentials: z.array(credentialSchema).default([]),
  schedules: z.array(scheduleSchema).default([]),
});

/**
 * A chunk's frame with its records unchecked: the gate reads the frame
 * first (a chunk of an already applied version needs no record check), then
 * validates each record against personSchema / credentialSchema /
 * scheduleSchema, naming the first bad one — in a worker thread
 * (sync/chunk-check.ts), at ~10 µs a record.
 */
export const chunkFrameSchema = z.object({
  version: version.min(1),
  index: z.number().int().min(0),
  people: z.array(z.unknown()).default([]),
  credentials: z.array(z.unknown()).default([]),
  schedules: z.array(z.unknown()).default([]),
});

// ---------------------------------------------------------------- commands
export const COMMAND_TYPES = ['open', 'set-mode', 'replay', 'purge-person', 'ping'] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

/** What every command has; read first so an unknown type can still be answered by id. */
export const commandHeaderSchema = z.object({
  id,
  type: z.string().min(1).max(64),
  issuedAt: isoTime,
  expiresAt: isoTime,
});

const header = { id, issuedAt: isoTime, expiresAt: isoTime };
export const commandSchema = z.discriminatedUnion('type', [
  z.object({ ...header, type: z.literal('open'), direction: z.enum(['in', 'out']), reason: text, operator: id }),
  z.object({
    ...header,
    type: z.literal('set-mode'),
    mode: z.enum(['normal', 'lockdown', 'emergency']),
    reason: text,
    operator: id,
  }),
  z
    .object({ ...header, type: z.literal('replay'), fromSeq: seq, toSeq: seq.optional() })
    .refine((c) => c.toSeq === undefined || c.toSeq >= c.fromSeq, { message: 'toSeq < fromSeq', path: ['toSeq'] }),
  z.object({ ...header, type: z.literal('purge-person'), personId: id }),
  z.object({ ...header, type: z.literal('ping') }),
]);

export const commandResultSchema = z.object({
  /** Empty when the command could not be read (bad signature): the correlation data still matches it. */
  id: z.string().max(MAX_ID),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.object({ code: z.string().min(1), message: z.string() }).optional(),
});

// ---------------------------------------------------------------- acks
export const eventsAckSchema = z.object({ upTo: z.number().int().min(0) });
export const registrationsAckSchema = z.object({ id });

// ---------------------------------------------------------------- gate → central
export const journalEventSchema = z.looseObject({
  seq,
  id,
  ts: isoTime,
  gate: id,
  type: z.enum(EVENT_TYPES),
  prevHash: hex64,
  hash: hex64,
});

/** `…/events`: 1..500 events in seq order. */
export const eventsBatchSchema = z
  .array(journalEventSchema)
  .min(1)
  .max(500)
  .refine((evs) => evs.every((e, i) => i === 0 || e.seq > evs[i - 1]!.seq), { message: 'events not in seq order' });

/** `…/alerts`: one journal event. */
export const alertSchema = journalEventSchema;

export const statusSchema = z.object({
  gate: id,
  site: id,
  online: z.literal(true),
  mode: z.enum(['normal', 'lockdown', 'emergency']),
  /** Software version of the gate. */
  version: z.string(),
  startedAt: isoTime,
  ts: isoTime,
  whitelistVersion: version,
  outbox: z.object({
    pending: z.number().int().min(0),
    oldestSeq: seq.nullable(),
    /** Extra: unacked events older than the retention period are being kept. */
    retentionHeld: z.number().int().min(0).optional(),
  }),
  readers: z.array(z.object({ id, type: z.string(), connected: z.boolean() })),
  clockSynced: z.boolean(),
  passKey: z.string(),
  /**
   * Extra: the journal's checkpoint once retention purged its start, the
   * {seq, hash} of the last event deleted. Events up to seq are gone from
   * the gate; a collector that lacks some of them can never get them and
   * resumes the chain from this hash (gatectl central).
   */
  journal: z.object({ checkpointSeq: seq, checkpointHash: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
});

/** Last will, retained on the status topic. */
export const willSchema = z.object({ gate: id, site: id, online: z.literal(false) });

/** `…/registrations`: a visitor registered on site, with the personal data central needs. */
export const registrationSchema = z.object({
  id,
  person: z.looseObject({
    ...personSchema.shape,
    phone: z.string().max(64).optional(),
    organisation: z.string().max(200).optional(),
    purpose: z.string().max(500).optional(),
    host: z.string().max(200).optional(),
  }),
  credential: credentialSchema,
  registeredAt: isoTime,
  operator: id,
});

export type PersonMsg = z.infer<typeof personSchema>;
export type CredentialMsg = z.infer<typeof credentialSchema>;
export type ScheduleMsg = z.infer<typeof scheduleSchema>;
export type DeltaMsg = z.infer<typeof deltaSchema>;
export type ManifestMsg = z.infer<typeof manifestSchema>;
export type ChunkMsg = z.infer<typeof chunkSchema>;
export type CommandMsg = z.infer<typeof commandSchema>;
export type CommandResultMsg = z.infer<typeof commandResultSchema>;
export type StatusMsg = z.infer<typeof statusSchema>;
export type WillMsg = z.infer<typeof willSchema>;
export type RegistrationMsg = z.infer<typeof registrationSchema>;
export type JournalEventMsg = z.infer<typeof journalEventSchema>;

/** `path: message` of the first few issues, for cmd/result errors and logs (never values). */
export function describeZodError(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

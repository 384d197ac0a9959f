/**
 * Read the central office's whitelist file (CSV or JSON) into the protocol's
 * shapes. ID numbers are turned into `id:` HMAC keys here, with the site key,
 * and never leave this process in clear; card UIDs become `card:` keys.
 * Every bad row is reported as file:line and field; any error means nothing
 * is returned (and so nothing is published).
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { idKey, isValidResidentId } from '../credentials/resident-id.js';
import {
  credentialSchema, describeZodError, personSchema, scheduleSchema, type CredentialMsg, type PersonMsg, type ScheduleMsg,
} from '../sync/protocol/schemas.js';
import { CliError } from './cli-error.js';
import { readPeopleCsv, readSchedulesCsv } from './whitelist-csv.js';
import { RowErrors, type Located, type RawCredentialRow } from './whitelist-rows.js';
import { topLevelElementLines } from './json-lines.js';

export { RowErrors, type Located, type RawCredentialRow } from './whitelist-rows.js';

export interface WhitelistData {
  people: PersonMsg[];
  credentials: CredentialMsg[];
  schedules: ScheduleMsg[];
}

export interface ReadOptions {
  /** Site HMAC key for ID numbers; only needed when the file holds ID numbers. */
  hashKey?: Buffer;
  /** Optional separate schedules CSV (id,days,from,to,holidays). */
  schedulesFile?: string;
}

/** Card UID as written by people: "04:a2:1B 3c", "04A21B3C" → "04A21B3C". */
export function normalizeCardUid(raw: string): string | undefined {
  const hex = raw.replace(/[\s:-]/g, '').toUpperCase();
  return /^([0-9A-F]{2}){4,10}$/.test(hex) ? hex : undefined;
}

export function readWhitelistFile(path: string, opts: ReadOptions = {}): WhitelistData {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new CliError('FILE_UNREADABLE', `cannot read ${path}: ${(cause as Error).message}`, 1, { cause });
  }
  const name = basename(path);
  const errors = new RowErrors(name);
  const ext = extname(path).toLowerCase();
  let people: Located<Record<string, unknown>>[];
  let creds: Located<RawCredentialRow>[];
  let schedules: Located<Record<string, unknown>>[];
  if (ext === '.json') {
    ({ people, creds, schedules } = readJson(text, name));
  } else if (ext === '.csv') {
    ({ people, creds } = readPeopleCsv(text, name, errors));
    schedules = [];
  } else {
    throw new CliError('BAD_ARGS', `${path}: expected a .csv or .json file`, 2);
  }
  if (opts.schedulesFile) {
    let sText: string;
    try {
      sText = readFileSync(opts.schedulesFile, 'utf8');
    } catch (cause) {
      throw new CliError('FILE_UNREADABLE', `cannot read ${opts.schedulesFile}: ${(cause as Error).message}`, 1, { cause });
    }
    const sName = basename(opts.schedulesFile);
    schedules = schedules.concat(readSchedulesCsv(sText, sName, new RowErrors(sName)));
  }
  const data = normalize(people, creds, schedules, errors, opts.hashKey);
  errors.throwIfAny();
  return data;
}

function readJson(text: string, name: string) {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new CliError('WHITELIST_INVALID', `${name}: not valid JSON: ${(cause as Error).message}`, 1, { cause });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new CliError('WHITELIST_INVALID', `${name}:1: expected an object {"people": [...], "credentials": [...], "schedules": [...]}`);
  }
  const lines = topLevelElementLines(text);
  const pick = <T>(key: string): Located<T>[] => {
    const arr = (doc as Record<string, unknown>)[key];
    if (arr === undefined) return [];
    if (!Array.isArray(arr)) throw new CliError('WHITELIST_INVALID', `${name}: "${key}" must be an array`);
    return arr.map((value: unknown, i) => ({ line: lines.get(key)?.[i], value: value as T }));
  };
  return {
    people: pick<Record<string, unknown>>('people'),
    creds: pick<RawCredentialRow>('credentials'),
    schedules: pick<Record<string, unknown>>('schedules'),
  };
}

function normalize(
  people: Located<Record<string, unknown>>[],
  creds: Located<RawCredentialRow>[],
  schedules: Located<Record<string, unknown>>[],
  errors: RowErrors,
  hashKey: Buffer | undefined,
): WhitelistData {
  const out: WhitelistData = { people: [], credentials: [], schedules: [] };
  const seenPeople = new Map<string, number | undefined>();
  const seenSchedules = new Set<string>();
  const seenKeys = new Map<string, number | undefined>();
  for (const { line, value, file } of schedules) {
    const r = scheduleSchema.safeParse(value);
    if (!r.success) errors.add(line, fieldOf(r.error, 'schedule'), describeZodError(r.error), file);
    else if (seenSchedules.has(r.data.id)) errors.add(line, 'id', `schedule "${r.data.id}" appears twice`, file);
    else (seenSchedules.add(r.data.id), out.schedules.push(r.data));
  }
  for (const { line, value } of people) {
    const clean = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
    const r = personSchema.safeParse(clean);
    if (!r.success) {
      errors.add(line, fieldOf(r.error, 'person', { id: 'personId' }), describeZodError(r.error));
      continue;
    }
    if (seenPeople.has(r.data.id)) errors.add(line, 'personId', `"${r.data.id}" already defined at line ${seenPeople.get(r.data.id) ?? '?'}`);
    else (seenPeople.set(r.data.id, line), out.people.push(r.data));
  }
  for (const p of out.people) {
    if (p.hostId !== undefined && !seenPeople.has(p.hostId)) errors.add(seenPeople.get(p.id), 'hostId', `no person "${p.hostId}" in the file`);
  }
  let warnedKey = false;
  for (const { line, value } of creds) {
    const key = credentialKeyOf(value, line, errors, hashKey, () => (warnedKey ? true : ((warnedKey = true), false)));
    if (key === undefined) continue;
    const c: Record<string, unknown> = { key, personId: value.personId, status: value.status ?? 'active' };
    for (const f of ['validFrom', 'validTo', 'scheduleId'] as const) if (value[f] !== undefined) c[f] = value[f];
    if (value.maxEntries !== undefined) {
      const n = typeof value.maxEntries === 'number' ? value.maxEntries : /^\d+$/.test(value.maxEntries) ? Number(value.maxEntries) : NaN;
      if (Number.isNaN(n)) errors.add(line, 'maxEntries', `expected a whole number, got "${value.maxEntries}"`);
      else c.maxEntries = n;
    }
    const r = credentialSchema.safeParse(c);
    if (!r.success) {
      errors.add(line, fieldOf(r.error, 'credential'), describeZodError(r.error));
      continue;
    }
    if (!seenPeople.has(r.data.personId)) errors.add(line, 'personId', `no person "${r.data.personId}" in the file`);
    if (r.data.scheduleId !== undefined && !seenSchedules.has(r.data.scheduleId)) {
      errors.add(line, 'scheduleId', `no schedule "${r.data.scheduleId}" in the file`);
    }
    if (r.data.validFrom && r.data.validTo && Date.parse(r.data.validTo) <= Date.parse(r.data.validFrom)) {
      errors.add(line, 'validTo', 'must be after validFrom');
    }
    if (seenKeys.has(r.data.key)) errors.add(line, 'credential', `same credential as line ${seenKeys.get(r.data.key) ?? '?'}`);
    else (seenKeys.set(r.data.key, line), out.credentials.push(r.data));
  }
  return out;
}

function credentialKeyOf(
  v: RawCredentialRow,
  line: number | undefined,
  errors: RowErrors,
  hashKey: Buffer | undefined,
  alreadyWarned: () => boolean,
): string | undefined {
  const given = (['card', 'idNumber', 'passId', 'key'] as const).filter((f) => v[f] !== undefined && v[f] !== '');
  if (given.length !== 1) {
    errors.add(line, 'credential', `give exactly one of card, idNumber, passId or key (got ${given.length ? given.join(', ') : 'none'})`);
    return undefined;
  }
  if (v.card !== undefined) {
    const uid = normalizeCardUid(String(v.card));
    if (!uid) errors.add(line, 'card', 'expected a card UID of 4-10 bytes in hex');
    return uid && `card:${uid}`;
  }
  if (v.idNumber !== undefined) {
    // The value itself is personal data: errors name the row and field, never the number.
    const n = String(v.idNumber).trim();
    if (!isValidResidentId(n)) {
      errors.add(line, 'idNumber', 'not a valid 18-character resident ID number (check digit or birth date wrong)');
      return undefined;
    }
    if (!hashKey) {
      if (!alreadyWarned()) errors.add(line, 'idNumber', 'the file holds ID numbers: give the site key with --hash-key HEX (or GATECTL_HASH_KEY)');
      return undefined;
    }
    return idKey(n, hashKey);
  }
  if (v.passId !== undefined) return `pass:${String(v.passId)}`;
  const key = String(v.key);
  if (key.startsWith('id:') && !/^id:[0-9a-f]{64}$/.test(key)) {
    errors.add(line, 'key', 'an id: key must be the 64-hex HMAC; give clear numbers as idNumber so they are hashed here');
    return undefined;
  }
  return key;
}

function fieldOf(err: { issues: Array<{ path: PropertyKey[] }> }, fallback: string, rename: Record<string, string> = {}): string {
  const p = err.issues[0]?.path[0];
  if (p === undefined) return fallback;
  return rename[String(p)] ?? String(p);
}

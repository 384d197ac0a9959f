/**
 * The CSV faces of a whitelist: a people CSV (one person per row with their
 * credentials) and a schedules CSV (one window per row). Column names are
 * matched case-insensitively, in any order; an unknown column is an error.
 */
import { CliError } from './cli-error.js';
import { CsvSyntaxError, parseCsv } from './csv.js';
import type { Located, RawCredentialRow, RowErrors } from './whitelist-rows.js';

const PEOPLE_COLUMNS = ['personId', 'kind', 'name', 'hostId', 'escort', 'cards', 'idNumber', 'passId', 'status', 'validFrom', 'validTo', 'maxEntries', 'scheduleId'] as const;

function csvTable(text: string, name: string, required: readonly string[], known: readonly string[]) {
  let records;
  try {
    records = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new CliError('WHITELIST_INVALID', `${name}:${e.line}: ${e.message}`);
    throw e;
  }
  const [header, ...rows] = records;
  if (!header) throw new CliError('WHITELIST_INVALID', `${name}: empty file (expected a header line: ${known.join(',')})`);
  const cols = header.fields.map((h) => h.trim());
  const byLower = new Map(known.map((k) => [k.toLowerCase(), k]));
  const keys = cols.map((c, i) => {
    const k = byLower.get(c.toLowerCase());
    if (!k) throw new CliError('WHITELIST_INVALID', `${name}:${header.line}: column ${i + 1} "${c}" is unknown (known: ${known.join(', ')})`);
    return k;
  });
  for (const r of required) {
    if (!keys.includes(r)) throw new CliError('WHITELIST_INVALID', `${name}:${header.line}: missing column "${r}"`);
  }
  return rows.map((r) => {
    const row: Record<string, string> = {};
    keys.forEach((k, i) => {
      const v = (r.fields[i] ?? '').trim();
      if (v !== '') row[k] = v;
    });
    return { line: r.line, row, extra: r.fields.length > keys.length };
  });
}

export function readPeopleCsv(text: string, name: string, errors: RowErrors) {
  const people: Located<Record<string, unknown>>[] = [];
  const creds: Located<RawCredentialRow>[] = [];
  for (const { line, row, extra } of csvTable(text, name, ['personId', 'kind', 'name'], PEOPLE_COLUMNS)) {
    if (extra) errors.add(line, '(row)', 'more fields than header columns (a comma inside an unquoted field?)');
    const escort = row.escort === undefined ? undefined : parseBool(row.escort);
    if (escort === null) errors.add(line, 'escort', `expected true/false/yes/no/1/0, got "${row.escort}"`);
    people.push({
      line,
      value: { id: row.personId, kind: row.kind, name: row.name, hostId: row.hostId, ...(escort !== undefined && escort !== null ? { escort } : {}) },
    });
    const shared = { personId: row.personId ?? '', status: row.status, validFrom: row.validFrom, validTo: row.validTo, maxEntries: row.maxEntries, scheduleId: row.scheduleId };
    for (const card of (row.cards ?? '').split(/[;|]/).map((c) => c.trim()).filter(Boolean)) creds.push({ line, value: { ...shared, card } });
    if (row.idNumber) creds.push({ line, value: { ...shared, idNumber: row.idNumber } });
    if (row.passId) creds.push({ line, value: { ...shared, passId: row.passId } });
  }
  return { people, creds };
}

function parseBool(v: string): boolean | null {
  const s = v.toLowerCase();
  if (['true', 'yes', 'y', '1'].includes(s)) return true;
  if (['false', 'no', 'n', '0'].includes(s)) return false;
  return null;
}

/** Schedules CSV: one window per row; rows with the same id add windows. */
export function readSchedulesCsv(text: string, file: string, errors: RowErrors): Located<Record<string, unknown>>[] {
  const byId = new Map<string, Located<{ id: string; windows: unknown[]; holidays: string[] }>>();
  for (const { line, row } of csvTable(text, file, ['id'], ['id', 'days', 'from', 'to', 'holidays'])) {
    const id = row.id ?? '';
    let s = byId.get(id);
    if (!s) byId.set(id, (s = { line, file, value: { id, windows: [], holidays: [] } }));
    if (row.days || row.from || row.to) {
      const days = parseDays(row.days ?? '');
      if (!days) errors.add(line, 'days', `expected day numbers 1-7 (Monday = 1) like "1-5" or "6;7", got "${row.days ?? ''}"`);
      else s.value.windows.push({ days, from: row.from, to: row.to });
    }
    for (const h of (row.holidays ?? '').split(/[;|\s]+/).filter(Boolean)) s.value.holidays.push(h);
  }
  errors.throwIfAny();
  return [...byId.values()];
}

function parseDays(v: string): number[] | undefined {
  const out = new Set<number>();
  for (const part of v.split(/[;|\s]+/).filter(Boolean)) {
    const m = /^([1-7])(?:-([1-7]))?$/.exec(part);
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = Number(m[2] ?? m[1]);
    if (b < a) return undefined;
    for (let d = a; d <= b; d++) out.add(d);
  }
  return out.size ? [...out].sort() : undefined;
}

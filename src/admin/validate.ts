/** Request bodies are checked with zod; a failure is 400 BAD_INPUT naming the fields (never their values). */
import { z } from 'zod';
import { AdminError } from './errors.js';

export function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  // An unknown field is named (its name, never its value); other issues name the field they are about.
  const paths = r.error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys' ? i.keys.map((k) => [...i.path, /^[A-Za-z0-9_.-]{1,64}$/.test(k) ? k : '(unknown field)']) : [i.path],
  );
  const fields = [...new Set(paths.map((p) => p.map(String).join('.') || '(body)'))];
  const err = new AdminError('BAD_INPUT', 400, `invalid ${fields.join(', ')}`) as AdminError & { fields: string[] };
  err.fields = fields;
  throw err;
}

/**
 * Characters no text field accepts: C0/C1 controls (NUL included: SQLite's
 * LIKE stops at it), lone surrogates, line/paragraph separators and the
 * bidirectional overrides and marks that make a name display as something
 * else (a reversed "gpj.exe", a journal line that hides its end).
 */
export const FORBIDDEN_CHARS = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/u;
const CONTROL_MESSAGE = 'control characters are not allowed';

/** Any string a client sends: bounded, and with none of FORBIDDEN_CHARS (400 naming the field). */
export const plain = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !FORBIDDEN_CHARS.test(s), CONTROL_MESSAGE);

/** Free text from a form: trimmed, no control characters, bounded. */
export const text = (max: number) =>
  plain(max * 4)
    .transform((s) => s.trim())
    .pipe(z.string().min(1).max(max));

export const optionalText = (max: number) =>
  plain(max * 4)
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.trim()))
    .pipe(z.string().max(max).optional());

/**
 * A date and time as the page sends it (`toISOString()`), or ISO 8601 with
 * minutes and an optional zone; nothing Date.parse would merely guess at.
 */
export const isoTime = z
  .string()
  .max(40)
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?$/, 'expected a date and time (ISO 8601)')
  .transform((s) => Date.parse(s))
  .refine((n) => Number.isFinite(n), 'expected a date and time');

/** Opaque ids in paths (person ids): no personal data, no path tricks. */
export const opaqueId = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected an id');

export const accountName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{1,31}$/, 'expected 2-32 letters, digits, . _ -');

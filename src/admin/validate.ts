/** Request bodies are checked with zod; a failure is 400 BAD_INPUT naming the fields (never their values). */
import { z } from 'zod';
import { AdminError } from './errors.js';

export function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const fields = [...new Set(r.error.issues.map((i) => i.path.map(String).join('.') || '(body)'))];
  const err = new AdminError('BAD_INPUT', 400, `invalid ${fields.join(', ')}`) as AdminError & { fields: string[] };
  err.fields = fields;
  throw err;
}

/** Free text from a form: trimmed, no control characters, bounded. */
export const text = (max: number) =>
  z
    .string()
    .transform((s) => s.trim())
    .pipe(
      z
        .string()
        .min(1)
        .max(max)
        .regex(/^[^\p{Cc}]*$/u, 'control characters are not allowed'),
    );

export const optionalText = (max: number) =>
  z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.trim()))
    .pipe(z.string().max(max).regex(/^[^\p{Cc}]*$/u).optional());

/** Opaque ids in paths (person ids): no personal data, no path tricks. */
export const opaqueId = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected an id');

export const accountName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{1,31}$/, 'expected 2-32 letters, digits, . _ -');

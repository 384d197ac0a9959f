/**
 * Small rules the collector (cli/central/collector.ts) decides by: which
 * lane a gate's batches take, which text a database stores unchanged, which
 * store errors are worth retrying.
 */

const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text SQLite and PostgreSQL store unchanged: no NUL, no lone surrogate. */
export function storableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/** The lane (0..lanes-1) of a gate: FNV-1a of its id. */
export function laneOf(gate: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < gate.length; i++) h = Math.imul(h ^ gate.charCodeAt(i), 0x01000193);
  return (h >>> 0) % lanes;
}

/** A store error worth retrying: the connection, not the data (node-postgres / PostgreSQL / SQLite busy). */
export function transient(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return /Connection terminated|connect|timeout/i.test((err as Error).message ?? '');
  // PostgreSQL classes 08 (connection), 57P (shutdown / cannot connect now), 40 (serialization / deadlock), 53 (resources).
  return /^(08|57P|40|53)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'SQLITE_BUSY'].includes(code);
}

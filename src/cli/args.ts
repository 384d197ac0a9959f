/**
 * Argument parsing for gatectl commands on node:util parseArgs (strict: an
 * unknown or misspelt option is an error, never silently ignored).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './cli-error.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseCommandArgs(argv: string[], options: OptionSpec, usage: string): Parsed {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (cause) {
    throw new CliError('BAD_ARGS', `${(cause as Error).message}\n\n${usage}`, 2, { cause });
  }
}

export function wantsHelp(p: Parsed): boolean {
  return p.values.help === true;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requireStr(p: Parsed, name: string): string {
  const v = str(p, name);
  if (v === undefined || v === '') throw new CliError('BAD_ARGS', `--${name} is required`, 2);
  return v;
}

export function intOpt(p: Parsed, name: string, fallback?: number): number | undefined {
  const v = str(p, name);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) throw new CliError('BAD_ARGS', `--${name}: expected an integer, got "${v}"`, 2);
  return Number(v);
}

/** Seconds as a positive number ("1.5" allowed); returns milliseconds. */
export function secondsOpt(p: Parsed, name: string, fallbackS: number): number {
  const v = str(p, name);
  if (v === undefined) return fallbackS * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CliError('BAD_ARGS', `--${name}: expected seconds > 0, got "${v}"`, 2);
  return Math.round(n * 1000);
}

/** ISO 8601 date or date-time → epoch ms. */
export function timeOpt(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(ms)) {
    throw new CliError('BAD_ARGS', `--${name}: expected an ISO 8601 date or time (2026-11-23T09:00+08:00), got "${v}"`, 2);
  }
  return ms;
}

export const IDENT = /^[A-Za-z0-9_-]{1,64}$/;

/** Site and gate ids become MQTT topic levels: no wildcards or slashes. */
export function identOpt(p: Parsed, name: string): string {
  const v = requireStr(p, name);
  if (!IDENT.test(v)) throw new CliError('BAD_ARGS', `--${name}: expected 1-64 letters, digits, _ or -, got "${v}"`, 2);
  return v;
}

/** Rows of a whitelist file as read, before normalization, and how their errors are collected. */
import { CliError } from './cli-error.js';

/** One raw credential as written in the file, before normalization. */
export interface RawCredentialRow {
  personId: string;
  card?: string;
  idNumber?: string;
  passId?: string;
  key?: string;
  status?: string;
  validFrom?: string;
  validTo?: string;
  maxEntries?: number | string;
  scheduleId?: string;
}

export class RowErrors {
  readonly list: string[] = [];
  constructor(private readonly file: string) {}
  add(line: number | undefined, field: string, message: string, file = this.file): void {
    this.list.push(`${file}:${line ?? '?'}: ${field}: ${message}`);
  }
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const shown = this.list.slice(0, 20);
    const more = this.list.length > shown.length ? `\n  … and ${this.list.length - shown.length} more` : '';
    throw new CliError('WHITELIST_INVALID', `whitelist not published, ${this.list.length} error(s):\n  ${shown.join('\n  ')}${more}`);
  }
}

export interface Located<T> {
  line: number | undefined;
  value: T;
  /** When the row comes from another file than the main one (schedules CSV). */
  file?: string;
}

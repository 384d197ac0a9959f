/** Event export formats of `gatectl logs`: JSON lines, or CSV for spreadsheets. */
import type { JournalEvent } from '../store/types.js';

export type LogFormat = 'jsonl' | 'csv';

const CSV_COLUMNS = ['seq', 'id', 'ts', 'gate', 'type', 'reader', 'direction', 'credential', 'personId', 'granted', 'reason', 'prevHash', 'hash'] as const;

export const CSV_HEADER = [...CSV_COLUMNS, 'details'].join(',');

function csvField(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // Quote what needs it; a leading = + - @ is prefixed so a spreadsheet never runs it as a formula (CSV injection).
  const safe = /^[=+\-@]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function formatEvent(ev: JournalEvent, format: LogFormat): string {
  if (format === 'jsonl') return JSON.stringify(ev);
  const known = new Set<string>(CSV_COLUMNS);
  const details = Object.fromEntries(Object.entries(ev).filter(([k]) => !known.has(k)));
  return [...CSV_COLUMNS.map((c) => csvField(ev[c])), csvField(Object.keys(details).length ? details : undefined)].join(',');
}

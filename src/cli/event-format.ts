/** Event export formats of `gatectl logs`: JSON lines, or CSV for spreadsheets. */
import { csvLine } from '../csv.js';
import type { JournalEvent } from '../store/types.js';

export type LogFormat = 'jsonl' | 'csv';

const CSV_COLUMNS = ['seq', 'id', 'ts', 'gate', 'type', 'reader', 'direction', 'credential', 'personId', 'granted', 'reason', 'prevHash', 'hash'] as const;

export const CSV_HEADER = [...CSV_COLUMNS, 'details'].join(',');

export function formatEvent(ev: JournalEvent, format: LogFormat): string {
  if (format === 'jsonl') return JSON.stringify(ev);
  const known = new Set<string>(CSV_COLUMNS);
  const details = Object.fromEntries(Object.entries(ev).filter(([k]) => !known.has(k)));
  return csvLine([...CSV_COLUMNS.map((c) => ev[c]), Object.keys(details).length ? details : undefined]);
}

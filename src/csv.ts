/**
 * The one CSV writer: the admin page's journal export and `gatectl logs
 * --format csv` both write their cells here. RFC 4180 quoting (a cell with a
 * comma, quote or line break is quoted, quotes doubled). A text cell that a
 * spreadsheet would run as a formula (first character = + - @ tab or CR) is
 * prefixed with ' (OWASP "CSV injection"); numbers and booleans are written
 * as they are (-1 is a number, not a formula). Objects are written as JSON.
 * Absent values are empty cells.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  let s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (typeof v === 'string' && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (no line ending). */
export function csvLine(cells: readonly unknown[]): string {
  return cells.map(csvCell).join(',');
}

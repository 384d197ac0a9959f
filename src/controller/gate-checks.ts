/** Small checks the orchestrator applies to what it is told. */

/**
 * How far the clock is behind the journal's last event (ms), when it is more
 * than a second behind: timestamps and validity windows are then wrong.
 */
export function clockBehind(lastEventTs: string | undefined, nowMs: number): number | undefined {
  if (!lastEventTs) return undefined;
  const lastMs = Date.parse(lastEventTs);
  return Number.isFinite(lastMs) && nowMs + 1_000 < lastMs ? lastMs - nowMs : undefined;
}

export function requireReason(reason: string): string {
  const text = typeof reason === 'string' ? reason.trim() : '';
  if (!text) throw codeError('REASON_REQUIRED', 'a reason is required');
  if (text.length > 200) throw codeError('REASON_TOO_LONG', 'reason is longer than 200 characters');
  return text;
}

export function codeError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

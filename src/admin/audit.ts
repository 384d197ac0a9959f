/**
 * What an operator did on the admin page that changes who may do what, or
 * takes data away, goes into the journal as an `admin_action` event: the
 * journal is the audit trail (hash-chained, sent to central). Log lines about
 * these actions name the journal seq, never the account: account names are
 * often people's names, and logs carry no personal data.
 */
import type { AdminDeps } from './deps.js';

export type AdminAction =
  | 'account_created'
  | 'account_changed'
  | 'account_removed'
  | 'password_changed'
  | 'alerts_acknowledged'
  | 'journal_exported';

/** Journal one action by `operator`; fields left undefined are not recorded. Returns the event's seq. */
export function recordAdminAction(
  deps: Pick<AdminDeps, 'gate'>,
  operator: string,
  action: AdminAction,
  fields: Record<string, string | number | boolean | undefined> = {},
): number {
  const ev: { type: 'admin_action'; [k: string]: unknown } = { type: 'admin_action', action, operator };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) ev[k] = v;
  return deps.gate.record(ev).seq;
}

/**
 * What the live page shows of a journal event: a fixed set of safe fields,
 * plus, for a person, their display name and a photo URL that carries only
 * the opaque person id. Names reach the page as JSON text and are rendered
 * with textContent.
 */
import type { Store } from '../store/index.js';
import type { JournalEvent } from '../store/types.js';
import type { VisitorStore } from '../store/visitors.js';
import { isAlert } from '../controller/alerts.js';

export interface LiveItem {
  seq: number;
  ts: string;
  type: string;
  /** controller/alerts.ts isAlert: stands out on the page until a guard acknowledges it. */
  alert: boolean;
  direction?: string;
  reader?: string;
  granted?: boolean;
  reason?: string;
  credential?: string;
  personId?: string;
  name?: string;
  kind?: string;
  photo?: string;
  operator?: string;
  /** Free text an operator typed (manual open, mode change reason). */
  note?: string;
  from?: string;
  to?: string;
  connected?: boolean;
  passed?: boolean;
  active?: boolean;
  account?: string;
  ok?: boolean;
  /** admin_action: what the operator did (account_created, journal_exported…). */
  action?: string;
}

const COPIED = ['direction', 'reader', 'granted', 'credential', 'personId', 'operator', 'from', 'to', 'connected',
  'passed', 'active', 'account', 'ok', 'action'] as const;

export function photoUrl(personId: string): string {
  return `/api/photos/${encodeURIComponent(personId)}`;
}

export class LiveView {
  constructor(
    private readonly store: Store,
    private readonly visitors: VisitorStore,
  ) {}

  item(ev: JournalEvent): LiveItem {
    const item: LiveItem = { seq: ev.seq, ts: ev.ts, type: ev.type, alert: isAlert(ev) };
    for (const k of COPIED) {
      const v = ev[k];
      if (v !== undefined && v !== null) (item as unknown as Record<string, unknown>)[k] = v;
    }
    if (typeof ev.reason === 'string') {
      // access events carry a reason code; manual_open/mode_changed carry a typed note.
      if (ev.type === 'access' || ev.type === 'admin_login') item.reason = ev.reason;
      else item.note = ev.reason;
    }
    if (typeof ev.personId === 'string') {
      const who = this.person(ev.personId);
      if (who) {
        item.name = who.name;
        item.kind = who.kind;
        if (who.hasPhoto && (ev.type !== 'access' || ev.granted === true)) item.photo = photoUrl(ev.personId);
      }
    }
    return item;
  }

  person(personId: string): { name: string; kind: string; hasPhoto: boolean } | undefined {
    const v = this.visitors.get(personId);
    const p = this.store.whitelist.person(personId);
    if (!p && !v) return undefined;
    return {
      name: p?.name ?? v!.name,
      kind: p?.kind ?? 'visitor',
      hasPhoto: Boolean(v?.photoFile) || Boolean(p?.photo),
    };
  }
}

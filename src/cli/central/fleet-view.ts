/**
 * `gatectl fleet`: one row per gate, from the retained statuses and the
 * collector's store, and what about it needs someone's attention. Pure: the
 * store's contents and the time come in.
 */
import type { GateChainState, StoredAnomaly, StoredStatus } from '../../store/central/collector-store.js';

export interface FleetRow {
  site: string;
  gate: string;
  online: boolean;
  mode: string;
  version: string;
  whitelistVersion: number | null;
  pending: number | null;
  /** Seconds since central last took in an event of this gate (null: never). */
  lastEventAgeS: number | null;
  clockSynced: boolean | null;
  /** ok | broken at seq N | purged before collected (seq N) | no events */
  chain: string;
  storedSeq: number;
  attention: string[];
}

export interface FleetOptions {
  nowMs: number;
  /** Outbox pending above this needs attention. */
  backlog: number;
  /** The published whitelist version; default: the highest any gate of the site reports. */
  whitelistVersion?: number;
}

interface StatusBody {
  online?: boolean;
  mode?: string;
  version?: string;
  whitelistVersion?: number;
  outbox?: { pending?: number };
  clockSynced?: boolean;
}

export function fleetRows(
  statuses: readonly StoredStatus[],
  states: readonly GateChainState[],
  anomalies: ReadonlyMap<string, readonly StoredAnomaly[]>,
  o: FleetOptions,
): FleetRow[] {
  const byGate = new Map<string, { site: string; status?: StoredStatus; state?: GateChainState }>();
  for (const s of statuses) byGate.set(s.gate, { site: s.site, status: s });
  for (const st of states) byGate.set(st.gate, { ...(byGate.get(st.gate) ?? { site: st.site }), state: st });
  const newestWhitelist = new Map<string, number>();
  for (const s of statuses) {
    const v = (s.status as StatusBody).whitelistVersion;
    if (typeof v === 'number') newestWhitelist.set(s.site, Math.max(newestWhitelist.get(s.site) ?? 0, v));
  }
  const rows: FleetRow[] = [];
  for (const [gate, x] of byGate) {
    const body = (x.status?.status ?? {}) as StatusBody;
    const online = x.status?.online === true;
    const st = x.state;
    const purged = (anomalies.get(gate) ?? []).filter((a) => a.kind === 'purged_before_collected');
    const chain = !st || st.maxSeq === 0 && st.contiguousSeq === 0
      ? 'no events'
      : st.brokenSeq !== undefined
        ? `broken at seq ${st.brokenSeq}`
        : purged.length
          ? `purged before collected (seq ${purged[purged.length - 1]!.seq ?? '?'})`
          : 'ok';
    const pending = typeof body.outbox?.pending === 'number' ? body.outbox.pending : null;
    const wl = typeof body.whitelistVersion === 'number' ? body.whitelistVersion : null;
    const target = o.whitelistVersion ?? newestWhitelist.get(x.site);
    const attention: string[] = [];
    if (!online) attention.push(x.status ? 'offline' : 'no status');
    if (st?.brokenSeq !== undefined) attention.push('broken chain');
    if (pending !== null && pending > o.backlog) attention.push('backlog');
    // Unknown (a last will carries no version) is not behind: an offline gate is flagged as offline.
    if (target !== undefined && wl !== null && wl < target) attention.push('whitelist behind');
    rows.push({
      site: x.site,
      gate,
      online,
      mode: body.mode ?? '',
      version: body.version ?? '',
      whitelistVersion: wl,
      pending,
      lastEventAgeS: st?.lastEventAt !== undefined ? Math.max(0, Math.round((o.nowMs - st.lastEventAt) / 1000)) : null,
      clockSynced: typeof body.clockSynced === 'boolean' ? body.clockSynced : null,
      chain,
      storedSeq: st?.contiguousSeq ?? 0,
      attention,
    });
  }
  return rows;
}

export const SORT_KEYS = ['site', 'gate', 'online', 'pending', 'age', 'chain', 'attention'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** Sorted by the key (needing attention first for `attention`), then site and gate. */
export function sortRows(rows: FleetRow[], key: SortKey, descending = false): FleetRow[] {
  const val = (r: FleetRow): string | number =>
    key === 'site' ? r.site
    : key === 'gate' ? r.gate
    : key === 'online' ? (r.online ? 1 : 0)
    : key === 'pending' ? (r.pending ?? -1)
    : key === 'age' ? (r.lastEventAgeS ?? Number.MAX_SAFE_INTEGER)
    : key === 'chain' ? (r.chain === 'ok' ? 1 : 0)
    : -r.attention.length;
  const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
  return [...rows].sort((a, b) => (descending ? -1 : 1) * cmp(val(a), val(b)) || cmp(a.site, b.site) || cmp(a.gate, b.gate));
}

export const COLUMNS = ['site', 'gate', 'online', 'mode', 'version', 'whitelist', 'pending', 'last_event_age_s', 'clock_synced', 'chain', 'stored_seq', 'attention'] as const;

export function cells(r: FleetRow): string[] {
  const s = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  return [r.site, r.gate, r.online ? 'yes' : 'no', r.mode, r.version, s(r.whitelistVersion), s(r.pending), s(r.lastEventAgeS), r.clockSynced === null ? '' : r.clockSynced ? 'yes' : 'no', r.chain, String(r.storedSeq), r.attention.join('; ')];
}

export function formatTable(rows: readonly FleetRow[]): string {
  const all = [COLUMNS.map((c) => c.toUpperCase()), ...rows.map(cells)];
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function formatCsv(rows: readonly FleetRow[]): string {
  const q = (c: string) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
  return [COLUMNS.join(','), ...rows.map((r) => cells(r).map(q).join(','))].join('\n');
}

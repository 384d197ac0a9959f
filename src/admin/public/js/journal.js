// Journal search with paging; CSV export of the same filters.
import { api } from './api.js';
import { $, clear, el, fmtTime } from './dom.js';
import { errorText, reasonText, t, typeText } from './i18n.js';

const TYPES = ['access', 'passage', 'manual_open', 'mode_changed', 'door_forced', 'door_held', 'tamper', 'fire_alarm',
  'reader_status', 'visitor_registered', 'whitelist_applied', 'command_rejected', 'admin_login', 'admin_action', 'startup',
  'shutdown', 'clock_warning', 'purge'];
const REASONS = ['GRANTED', 'UNKNOWN_CREDENTIAL', 'NOT_YET_VALID', 'EXPIRED', 'SUSPENDED', 'BLACKLISTED',
  'OUTSIDE_SCHEDULE', 'ANTI_PASSBACK', 'ENTRIES_EXHAUSTED', 'ESCORT_REQUIRED', 'ESCORT_TIMEOUT', 'WRONG_GATE',
  'LOCKDOWN', 'INVALID_FORMAT', 'BAD_SIGNATURE', 'DUPLICATE_TAP', 'EMERGENCY_OPEN'];

let page = 1;
let pages = 1;
/**
 * The newest search asked for. Opening the view searches at once, and a
 * guard may submit filters before that answer comes: an older answer that
 * arrives later must not replace the newer one on screen.
 */
let latest = 0;

export function fillJournalSelects() {
  const type = clear($('#journal-type'));
  type.append(el('option', { value: '' }), ...TYPES.map((v) => el('option', { value: v, text: typeText(v) })));
  const reason = clear($('#journal-reason'));
  reason.append(el('option', { value: '' }), ...REASONS.map((v) => el('option', { value: v, text: reasonText(v) })));
}

function filters() {
  const f = $('#journal-form');
  const iso = (v) => (v ? new Date(v).toISOString() : '');
  return {
    from: iso(f.from.value),
    to: iso(f.to.value),
    type: f.type.value,
    reason: f.reason.value,
    direction: f.direction.value,
    person: f.person.value,
  };
}

export async function searchJournal(p = 1) {
  const asked = ++latest;
  let r;
  try {
    r = await api('POST', '/api/journal/search', { ...filters(), page: p, pageSize: 50 });
  } catch (err) {
    if (asked === latest) throw err;
    return;
  }
  if (asked !== latest) return;
  page = r.page;
  // Counting stops at a cap ("10000+"): past it, Next stays on while pages are full.
  pages = r.more ? (r.events.length === r.pageSize ? page + 1 : page) : Math.max(1, Math.ceil(r.total / r.pageSize));
  $('#journal-total').textContent = t('journal.total', { n: r.more ? `${r.total}+` : r.total });
  $('#journal-page').textContent = r.more ? String(page) : `${page} / ${pages}`;
  const body = clear($('#journal-table tbody'));
  for (const ev of r.events) {
    body.append(
      el('tr', { dataset: { seq: ev.seq } },
        el('td', { text: ev.seq }),
        el('td', { text: fmtTime(ev.ts) }),
        el('td', { text: typeText(ev.type) }),
        el('td', { text: ev.direction ? t('dir.' + ev.direction) : '' }),
        el('td', { text: ev.reason ? reasonText(ev.reason) : ev.action ? t('action.' + ev.action) : ev.note ?? '' }),
        el('td', { text: ev.credential ?? '' }),
        el('td', { class: 'name', text: ev.name ?? ev.personId ?? ev.account ?? '' }),
        el('td', { text: ev.operator ?? '' })),
    );
  }
}

export function wireJournal() {
  const show = (p) => searchJournal(p).catch((err) => ($('#journal-total').textContent = errorText(err)));
  $('#journal-form').addEventListener('submit', (e) => {
    e.preventDefault();
    show(1);
  });
  $('#journal-prev').addEventListener('click', () => page > 1 && show(page - 1));
  $('#journal-next').addEventListener('click', () => page < pages && show(page + 1));
  $('#journal-export').addEventListener('click', async () => {
    try {
      const blob = await api('POST', '/api/journal/export', filters());
      const url = URL.createObjectURL(blob);
      const a = el('a', { href: url, download: 'journal.csv' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      $('#journal-total').textContent = errorText(err);
    }
  });
}

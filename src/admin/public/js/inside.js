// Who is inside now, printable as a muster list for an evacuation.
import { api } from './api.js';
import { $, clear, el, fmtTime } from './dom.js';
import { t } from './i18n.js';

export async function loadInside() {
  const r = await api('GET', '/api/inside');
  $('#inside-count').textContent = String(r.count);
  $('#inside-at').textContent = fmtTime(r.at);
  const body = clear($('#inside-table tbody'));
  for (const p of r.people) {
    body.append(
      el('tr', { dataset: { person: p.personId } },
        el('td', { class: 'name', text: p.name ?? p.personId }),
        el('td', { text: p.kind ? t('kind.' + p.kind) : '' }),
        el('td', { text: p.organisation ?? '' }),
        el('td', { text: p.host ?? '' }),
        el('td', { text: p.phone ?? '' }),
        el('td', { text: fmtTime(p.since) }),
        el('td', { class: 'no-print' }, el('input', { type: 'checkbox' }))),
    );
  }
  return r;
}

export function wireInside() {
  $('#inside-refresh').addEventListener('click', () => loadInside());
  $('#muster-print').addEventListener('click', async () => {
    await loadInside();
    document.body.classList.add('print-muster');
    window.print();
    document.body.classList.remove('print-muster');
  });
}

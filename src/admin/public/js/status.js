// Gate status, manual open (reason required) and mode switch (admin, confirmed).
import { api } from './api.js';
import { $, clear, el, fmtTime } from './dom.js';
import { errorText, t } from './i18n.js';

function yesNo(v) {
  if (v === null || v === undefined) return t('status.unknown');
  return t(v ? 'status.yes' : 'status.no');
}

function uptime(s) {
  if (s === null || s === undefined) return t('status.unknown');
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${d ? d + 'd ' : ''}${h}h ${m}m`;
}

export function setModeBadge(mode) {
  const badge = $('#mode-badge');
  badge.textContent = t('mode.' + mode);
  badge.className = `badge mode-${mode}`;
}

export async function loadStatus() {
  const s = await api('GET', '/api/status');
  $('#gate-id').textContent = `${s.site}/${s.gate}`;
  setModeBadge(s.mode);
  const rows = [
    ['status.mode', t('mode.' + s.mode)],
    ['status.readers', s.readers.map((r) => `${r.id} (${t('dir.' + r.direction)}): ${t(r.connected ? 'reader.connected' : 'reader.disconnected')}`).join('; ') || '—'],
    ['status.mqtt', s.mqtt ? yesNo(s.mqtt.connected) : t('status.unknown')],
    ['status.outbox', s.outbox ? String(s.outbox.pending) : t('status.unknown')],
    ['status.whitelist', String(s.whitelistVersion)],
    ['status.clock', yesNo(s.clockSynced)],
    ['status.uptime', uptime(s.uptimeS)],
    ['status.started', fmtTime(s.startedAt)],
    ['status.lastSeq', String(s.lastSeq)],
  ];
  const dl = clear($('#status-list'));
  for (const [k, v] of rows) dl.append(el('dt', { text: t(k) }), el('dd', { text: v, dataset: { key: k } }));
  return s;
}

export function wireStatus() {
  $('#open-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    const out = $('#open-result');
    try {
      const r = await api('POST', '/api/open', { direction: f.direction.value, reason: f.reason.value });
      out.textContent = t('open.done', { seq: r.seq });
      out.className = 'result ok';
      f.reason.value = '';
    } catch (err) {
      out.textContent = errorText(err);
      out.className = 'result error';
    }
  });
  $('#mode-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    const out = $('#mode-result');
    const mode = f.mode.value;
    if (!window.confirm(t('mode.confirm', { mode: t('mode.' + mode) }))) return;
    try {
      await api('POST', '/api/mode', { mode, reason: f.reason.value, confirm: true });
      out.textContent = t('mode.done', { mode: t('mode.' + mode) });
      out.className = 'result ok';
      f.reason.value = '';
      await loadStatus();
    } catch (err) {
      out.textContent = errorText(err);
      out.className = 'result error';
    }
  });
}

// The live feed (server-sent events) and the alert bar. Alerts stay until a
// guard acknowledges them; the server remembers them across reloads.
import { api } from './api.js';
import { $, clear, el, fmtTime } from './dom.js';
import { errorText, reasonText, t, typeText } from './i18n.js';

const MAX_FEED = 100;
let source;
const alerts = new Map();
let onMode = () => {};
let onReader = () => {};

export function onModeEvent(fn) {
  onMode = fn;
}

export function onReaderEvent(fn) {
  onReader = fn;
}

function describe(item) {
  switch (item.type) {
    case 'access':
      return reasonText(item.reason);
    case 'manual_open':
      return `${t('type.manual_open')}: ${item.note ?? ''} (${item.operator ?? ''})`;
    case 'mode_changed':
      return `${t('mode.' + item.from)} → ${t('mode.' + item.to)}: ${item.note ?? ''} (${item.operator ?? ''})`;
    case 'reader_status':
      return `${item.reader ?? ''} ${t(item.connected ? 'reader.connected' : 'reader.disconnected')}`;
    case 'tamper':
    case 'fire_alarm':
      return `${typeText(item.type)}${item.active === false ? ' — ' + t('alert.cleared') : ''}`;
    case 'admin_action':
      return `${t('action.' + item.action)}${item.account ? ': ' + item.account : ''} (${item.operator ?? ''})`;
    default:
      return typeText(item.type);
  }
}

export function feedItem(item) {
  const granted = item.type === 'access' ? (item.granted ? 'granted' : 'denied') : 'other';
  return el(
    'li',
    { class: `event ${granted}${item.alert ? ' alert' : ''}`, dataset: { seq: item.seq, type: item.type } },
    item.photo ? el('img', { class: 'photo', src: item.photo, alt: '', loading: 'lazy' }) : el('div', { class: 'photo none' }),
    el(
      'div',
      { class: 'what' },
      el('div', { class: 'line1' },
        el('time', { text: fmtTime(item.ts) }),
        item.direction ? el('span', { class: 'dir', text: t('dir.' + item.direction) }) : null,
        el('span', { class: 'reason', text: describe(item) })),
      el('div', { class: 'line2' },
        item.name ? el('span', { class: 'name', text: item.name }) : null,
        item.credential ? el('span', { class: 'cred', text: item.credential }) : null,
        item.reader ? el('span', { class: 'muted', text: item.reader }) : null),
    ),
  );
}

function addToFeed(item) {
  const feed = $('#feed');
  if (feed.querySelector(`[data-seq="${Number(item.seq)}"]`)) return;
  feed.prepend(feedItem(item));
  while (feed.children.length > MAX_FEED) feed.lastElementChild.remove();
}

function renderAlerts() {
  const box = clear($('#alerts'));
  const list = [...alerts.values()].sort((a, b) => a.seq - b.seq);
  for (const a of list) {
    box.append(
      el('div', { class: 'alert-item', dataset: { seq: a.seq } },
        el('time', { text: fmtTime(a.ts) }),
        el('strong', { text: typeText(a.type) }),
        el('span', { text: describe(a) }),
        a.name ? el('span', { class: 'name', text: a.name }) : null,
        a.credential ? el('span', { class: 'cred', text: a.credential }) : null,
        el('button', { type: 'button', text: t('alert.ack'), onclick: () => ack([a.seq]) })),
    );
  }
  if (list.length > 1) box.append(el('button', { type: 'button', class: 'ack-all', text: t('alert.ackAll'), onclick: () => ack('all') }));
}

async function ack(seqs) {
  try {
    const body = seqs === 'all' ? { all: true } : { seqs };
    const { acknowledged } = await api('POST', '/api/alerts/ack', body);
    for (const s of acknowledged) alerts.delete(s);
    renderAlerts();
  } catch (err) {
    window.alert(errorText(err));
  }
}

function addAlert(item) {
  alerts.set(item.seq, item);
  renderAlerts();
}

export async function startLive() {
  stopLive();
  const state = $('#live-state');
  const [{ events }, open] = await Promise.all([api('GET', '/api/live/recent'), api('GET', '/api/alerts')]);
  clear($('#feed'));
  for (const item of events.reverse()) addToFeed(item);
  alerts.clear();
  for (const a of open.alerts) alerts.set(a.seq, a);
  renderAlerts();
  source = new EventSource('/api/live');
  source.onopen = () => (state.textContent = t('live.connected'));
  source.onerror = () => (state.textContent = t('live.reconnecting'));
  source.addEventListener('journal', (e) => {
    const item = JSON.parse(e.data);
    addToFeed(item);
    if (item.alert) addAlert(item);
  });
  source.addEventListener('alert', (e) => addAlert(JSON.parse(e.data)));
  source.addEventListener('mode', (e) => onMode(JSON.parse(e.data).mode));
  source.addEventListener('reader', (e) => onReader(JSON.parse(e.data)));
}

export function stopLive() {
  if (source) source.close();
  source = undefined;
}

export function rerenderLive() {
  renderAlerts();
}

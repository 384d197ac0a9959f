// Page start: language, session check, navigation between views.
import { api, setCsrf, whenUnauthorized } from './api.js';
import { $, $$, show } from './dom.js';
import { currentLang, errorText, loadLang, onLangChange, t } from './i18n.js';
import { onModeEvent, onReaderEvent, rerenderLive, startLive, stopLive } from './live.js';
import { loadStatus, setModeBadge, wireStatus } from './status.js';
import { resetRegisterForm, wireRegister } from './register.js';
import { loadInside, wireInside } from './inside.js';
import { fillJournalSelects, searchJournal, wireJournal } from './journal.js';
import { loadAccounts, loadReview, wireAccounts } from './accounts.js';

let role = '';
let view = 'live';

const loaders = {
  live: () => {},
  status: loadStatus,
  register: async () => resetRegisterForm(),
  inside: loadInside,
  journal: () => searchJournal(1),
  review: loadReview,
  accounts: loadAccounts,
  me: async () => {},
};

async function open(name) {
  view = name;
  for (const s of $$('.view')) show(s, s.id === 'view-' + name);
  for (const b of $$('nav.tabs button')) b.classList.toggle('active', b.dataset.view === name);
  try {
    await loaders[name]();
  } catch (err) {
    console.warn(errorText(err));
  }
}

function signedOut() {
  role = '';
  stopLive();
  setCsrf('');
  show($('#app'), false);
  show($('#who'), false);
  show($('#login'), true);
}

async function signedIn(session) {
  setCsrf(session.csrf);
  role = session.role;
  $('#who-name').textContent = session.account;
  $('#who-role').dataset.role = role;
  $('#who-role').textContent = t('role.' + role);
  for (const n of $$('[data-role="admin"]')) show(n, role === 'admin');
  show($('#login'), false);
  show($('#who'), true);
  show($('#app'), true);
  await loadStatus().catch(() => {});
  await startLive();
  await open(view);
}

async function start() {
  await loadLang();
  $('#lang-select').value = currentLang();
  $('#lang-select').addEventListener('change', (e) => loadLang(e.target.value));
  onLangChange(() => {
    fillJournalSelects();
    rerenderLive();
    if (role) loadStatus().catch(() => {});
  });
  fillJournalSelects();
  whenUnauthorized(signedOut);
  onModeEvent(setModeBadge);
  // Readers coming and going, uptime and backlog: keep the status panel current while it is shown.
  onReaderEvent(() => view === 'status' && loadStatus().catch(() => {}));
  setInterval(() => role && view === 'status' && !document.hidden && loadStatus().catch(() => {}), 15_000);
  wireStatus();
  wireRegister();
  wireInside();
  wireJournal();
  wireAccounts();
  for (const b of $$('nav.tabs button')) b.addEventListener('click', () => open(b.dataset.view));
  $('#login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    $('#login-error').textContent = '';
    try {
      const session = await api('POST', '/api/login', { name: f.name.value, password: f.password.value });
      f.password.value = '';
      await signedIn(session);
    } catch (err) {
      $('#login-error').textContent = errorText(err);
    }
  });
  $('#logout').addEventListener('click', async () => {
    await api('POST', '/api/logout').catch(() => {});
    signedOut();
  });
  try {
    await signedIn(await api('GET', '/api/session'));
  } catch {
    signedOut();
  }
}

start();

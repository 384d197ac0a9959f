// Account management (admin), the security review queue (admin) and one's own password.
import { api, setCsrf } from './api.js';
import { $, clear, el } from './dom.js';
import { errorText, t } from './i18n.js';

export async function loadAccounts() {
  const { accounts } = await api('GET', '/api/accounts');
  const body = clear($('#accounts-table tbody'));
  const errBox = $('#accounts-error');
  const act = (fn) => async () => {
    errBox.textContent = '';
    try {
      await fn();
      await loadAccounts();
    } catch (err) {
      errBox.textContent = errorText(err);
    }
  };
  for (const a of accounts) {
    body.append(
      el('tr', { dataset: { account: a.name } },
        el('td', { text: a.name }),
        el('td', { text: t('role.' + a.role) }),
        el('td', { text: t(a.disabled ? 'accounts.disabled' : 'accounts.enabled') }),
        el('td', {},
          el('button', { type: 'button', text: t(a.disabled ? 'accounts.enable' : 'accounts.disable'),
            onclick: act(() => api('POST', '/api/accounts/update', { name: a.name, disabled: !a.disabled })) }),
          el('button', { type: 'button', text: t('accounts.reset'),
            onclick: act(async () => {
              const password = window.prompt(t('accounts.resetPrompt'));
              if (password) await api('POST', '/api/accounts/update', { name: a.name, password });
            }) }),
          el('button', { type: 'button', text: t('accounts.delete'),
            onclick: act(async () => {
              if (window.confirm(t('accounts.deleteConfirm', { name: a.name }))) await api('POST', '/api/accounts/delete', { name: a.name });
            }) }))),
    );
  }
}

export async function loadReview() {
  const { visitors } = await api('GET', '/api/visitors/pending');
  const body = clear($('#review-table tbody'));
  for (const v of visitors) {
    body.append(
      el('tr', { dataset: { person: v.personId } },
        el('td', { class: 'name', text: v.name }),
        el('td', { text: v.idMasked }),
        el('td', { text: v.organisation }),
        el('td', { text: v.purpose }),
        el('td', { text: v.host }),
        el('td', {}, el('button', { type: 'button', text: t('review.approve'), onclick: async () => {
          try {
            await api('POST', '/api/visitors/approve', { personId: v.personId });
            await loadReview();
          } catch (err) {
            window.alert(errorText(err));
          }
        } }))),
    );
  }
}

export function wireAccounts() {
  $('#account-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    const errBox = $('#accounts-error');
    errBox.textContent = '';
    try {
      await api('POST', '/api/accounts', { name: f.name.value, role: f.role.value, password: f.password.value });
      f.reset();
      await loadAccounts();
    } catch (err) {
      errBox.textContent = errorText(err);
    }
  });
  $('#me-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    const out = $('#me-result');
    try {
      const r = await api('POST', '/api/password', { current: f.current.value, password: f.password.value });
      setCsrf(r.csrf);
      f.reset();
      out.textContent = t('me.done');
      out.className = 'result ok';
    } catch (err) {
      out.textContent = errorText(err);
      out.className = 'result error';
    }
  });
}

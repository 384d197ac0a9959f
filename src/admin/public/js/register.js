// On-site visitor registration: form + camera/upload photo, then the pass to print.
import { api } from './api.js';
import { $, fmtTime, show, toLocalInput } from './dom.js';
import { errorText, t } from './i18n.js';

let previewUrl;

// Not f.name: that is the form's own name attribute in some engines.
const nameInput = (f) => f.querySelector('input[name=name]');

/** Back to typing: the form no longer refers to an ID card read. */
function clearCardRead(f) {
  f.idSlot.value = '';
  for (const el of [nameInput(f), f.idNumber]) el.readOnly = false;
  f.idNumber.disabled = false;
  f.idType.disabled = false;
  $('#reg-card-status').textContent = '';
}

/**
 * "Read ID card": the gate waits for a card on the desk reader and keeps its
 * number; the page gets the name, the masked number and a slot id to send
 * back with the form. The clear number never comes here.
 */
async function readIdCard() {
  const f = $('#reg-form');
  const btn = $('#reg-read-card');
  const status = $('#reg-card-status');
  const err = $('#reg-error');
  err.textContent = '';
  clearCardRead(f);
  status.textContent = t('reg.readCard.waiting');
  btn.disabled = true;
  try {
    const r = await api('POST', '/api/desk/read', {});
    f.idSlot.value = r.slot;
    nameInput(f).value = r.name;
    nameInput(f).readOnly = true;
    f.idType.value = 'resident';
    f.idType.disabled = true;
    // Shown masked and not sent: the gate has the number.
    f.idNumber.value = r.idMasked;
    f.idNumber.readOnly = true;
    f.idNumber.disabled = true;
    const validTo = r.validTo === 'long-term' ? t('reg.readCard.longTerm') : r.validTo;
    status.textContent = t('reg.readCard.done', { validTo });
  } catch (e) {
    status.textContent = '';
    err.textContent = errorText(e);
  } finally {
    btn.disabled = false;
  }
}

export function resetRegisterForm() {
  const f = $('#reg-form');
  const now = Date.now();
  if (!f.validFrom.value) f.validFrom.value = toLocalInput(now);
  if (!f.validTo.value) f.validTo.value = toLocalInput(now + 8 * 3600_000);
}

async function showPass(personId) {
  const v = await api('GET', `/api/visitors/${encodeURIComponent(personId)}`);
  $('#pass-name').textContent = v.name;
  $('#pass-host').textContent = v.host;
  $('#pass-window').textContent = `${fmtTime(v.validFrom)} – ${fmtTime(v.validTo)}`;
  $('#pass-credential').textContent = v.credential === 'pass' ? t('reg.credential.pass') : `${t('reg.credential.id')} ${v.idMasked}`;
  const photo = $('#pass-photo');
  photo.src = v.photo || '';
  show(photo, Boolean(v.photo));
  show($('#pass-review'), v.review === 'pending');
  const qr = $('#pass-qr');
  if (v.credential === 'pass') qr.src = `/api/visitors/${encodeURIComponent(personId)}/pass.svg`;
  show(qr, v.credential === 'pass');
  show($('#reg-result'), true);
}

export function wireRegister() {
  const f = $('#reg-form');
  f.photo.addEventListener('change', () => {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    const file = f.photo.files[0];
    const img = $('#reg-preview');
    if (!file) return show(img, false);
    previewUrl = URL.createObjectURL(file);
    img.src = previewUrl;
    show(img, true);
  });
  $('#reg-read-card').addEventListener('click', () => void readIdCard());
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const err = $('#reg-error');
    err.textContent = '';
    const data = new FormData(f);
    // datetime-local is the tablet's local time; send an exact instant.
    for (const k of ['validFrom', 'validTo']) data.set(k, new Date(f[k].value).toISOString());
    if (data.get('idSlot')) {
      data.delete('idNumber');
      data.delete('name');
      data.delete('idType');
    } else {
      data.delete('idSlot');
    }
    const submit = f.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const r = await api('POST', '/api/visitors', data);
      f.reset();
      clearCardRead(f);
      show($('#reg-preview'), false);
      resetRegisterForm();
      await showPass(r.personId);
    } catch (e2) {
      err.textContent = errorText(e2);
    } finally {
      submit.disabled = false;
    }
  });
  $('#pass-print').addEventListener('click', () => {
    document.body.classList.add('print-pass');
    window.print();
    document.body.classList.remove('print-pass');
  });
}

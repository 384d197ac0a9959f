// Translations come from the server (/api/i18n), which picks zh-CN or en
// from the gc_lang cookie or the browser's Accept-Language.
import { $$ } from './dom.js';

let strings = {};
let lang = 'en';
const listeners = [];

export async function loadLang(choice) {
  if (choice) document.cookie = `gc_lang=${encodeURIComponent(choice)}; path=/; max-age=31536000; samesite=strict`;
  const res = await fetch('/api/i18n', { credentials: 'same-origin' });
  const body = await res.json();
  strings = body.strings;
  lang = body.lang;
  document.documentElement.lang = lang;
  applyI18n(document);
  for (const fn of listeners) fn(lang);
  return lang;
}

export function currentLang() {
  return lang;
}

export function onLangChange(fn) {
  listeners.push(fn);
}

export function t(key, vars) {
  let s = strings[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, String(v));
  return s;
}

export const reasonText = (code) => (code ? t('reason.' + code) : '');
export const typeText = (type) => t('type.' + type);
export const errorText = (err) => {
  const key = 'error.' + err.code;
  const base = strings[key] ?? err.message ?? err.code;
  return err.fields && err.fields.length ? `${base} (${err.fields.map((f) => t('field.' + f)).join(', ')})` : base;
};

export function applyI18n(root) {
  for (const node of $$('[data-i18n]', root)) node.textContent = t(node.dataset.i18n);
  for (const node of $$('[data-i18n-ph]', root)) node.placeholder = t(node.dataset.i18nPh);
  document.title = t('app.title');
}

/**
 * The page's HTML in the reader's language, filled in on the server: the
 * first paint is already in that language (no flash of English before the
 * script's /api/i18n answer arrives), and the script's own pass over the same
 * `data-i18n` nodes then changes nothing.
 */
import { MESSAGES, type Lang } from './index.js';

const TEXT_NODE = /(<([a-z][a-z0-9]*)\b[^>]*\bdata-i18n="([^"]+)"[^>]*>)([^<]*)(<\/\2>)/g;
const PLACEHOLDER = /(<[a-z][a-z0-9]*\b[^>]*?\bdata-i18n-ph="([^"]+)")/g;

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Renders `html` in `lang`. Throws when a `data-i18n` node holds markup (the
 * script would flatten it too) or names a key the language does not have, so
 * a broken page fails at start, not in a browser.
 */
export function renderPage(html: string, lang: Lang): string {
  const strings = MESSAGES[lang] as Record<string, string>;
  const text = (key: string): string => {
    const s = strings[key];
    if (s === undefined) throw new Error(`admin page: no ${lang} string for data-i18n key "${key}"`);
    return escapeHtml(s);
  };
  let replaced = 0;
  let out = html.replace(TEXT_NODE, (_m, open: string, _tag: string, key: string, _old: string, close: string) => {
    replaced += 1;
    return open + text(key) + close;
  });
  const declared = (html.match(/\bdata-i18n="/g) ?? []).length;
  if (replaced !== declared) {
    throw new Error(`admin page: ${declared - replaced} data-i18n node(s) hold markup or are not closed; only plain text can be translated`);
  }
  out = out.replace(PLACEHOLDER, (_m, open: string, key: string) => `${open} placeholder="${text(key)}"`);
  out = out.replace(/<html lang="[^"]*">/, `<html lang="${lang}">`);
  out = out.replace(/<title>[^<]*<\/title>/, `<title>${text('app.title')}</title>`);
  return out;
}

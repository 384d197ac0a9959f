/**
 * Language of the page: the `gc_lang` cookie the switch sets, else the
 * browser's Accept-Language (q-weighted), else zh-CN (the site's language).
 */
import { EN, type MessageKey } from './en.js';
import { ZH_CN } from './zh-CN.js';

export type Lang = 'zh-CN' | 'en';
export const LANGS: readonly Lang[] = ['zh-CN', 'en'];
export const MESSAGES: Record<Lang, Record<MessageKey, string>> = { 'zh-CN': ZH_CN, en: EN };
export const DEFAULT_LANG: Lang = 'zh-CN';

function match(tag: string): Lang | undefined {
  const t = tag.trim().toLowerCase();
  if (t === 'zh' || t.startsWith('zh-')) return 'zh-CN';
  if (t === 'en' || t.startsWith('en-')) return 'en';
  return undefined;
}

export function pickLang(cookie: string | undefined, acceptLanguage: string | undefined): Lang {
  if (cookie) {
    const c = match(cookie);
    if (c) return c;
  }
  if (acceptLanguage) {
    const ranked = acceptLanguage
      .split(',')
      .slice(0, 20)
      .map((part, i) => {
        const [tag = '', ...params] = part.split(';');
        const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
        const weight = q ? Number(q.slice(2)) : 1;
        return { lang: match(tag), weight: Number.isFinite(weight) ? weight : 0, i };
      })
      .filter((x) => x.lang && x.weight > 0)
      .sort((a, b) => b.weight - a.weight || a.i - b.i);
    if (ranked[0]?.lang) return ranked[0].lang;
  }
  return DEFAULT_LANG;
}

export function reasonText(lang: Lang, code: string): string {
  return (MESSAGES[lang] as Record<string, string>)[`reason.${code}`] ?? code;
}

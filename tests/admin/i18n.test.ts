/** The page's language: Accept-Language, the switch cookie, and complete dictionaries. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASONS } from '../../src/controller/reasons.js';
import { MESSAGES, pickLang } from '../../src/admin/i18n/index.js';
import { renderPage } from '../../src/admin/i18n/page.js';
import { makeHarness, type Harness } from './harness.js';

describe('zh-CN and en', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness();
  });
  afterAll(async () => h.close());

  const get = (headers: Record<string, string>) => h.app.inject({ method: 'GET', url: '/api/i18n', headers }).then((r) => r.json());

  it('follows Accept-Language, and the switch cookie overrides it', async () => {
    expect((await get({ 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' })).lang).toBe('zh-CN');
    expect((await get({ 'accept-language': 'en-US,en;q=0.9' })).lang).toBe('en');
    expect((await get({ 'accept-language': 'fr-FR, en;q=0.5, zh;q=0.7' })).lang).toBe('zh-CN');
    expect((await get({ 'accept-language': 'en-GB', cookie: 'gc_lang=zh-CN' })).lang).toBe('zh-CN');
    expect((await get({ 'accept-language': 'zh-TW', cookie: 'gc_lang=en' })).lang).toBe('en');
    const zh = await get({ 'accept-language': 'zh-CN' });
    expect(zh.strings['reason.BLACKLISTED']).toBe('黑名单');
    expect(zh.strings['nav.inside']).toBe('在场人员');
    expect((await get({ 'accept-language': 'en' })).strings['reason.ANTI_PASSBACK']).toBe('Already inside (anti-passback)');
  });

  it('defaults to zh-CN for a browser that asks for neither', () => {
    expect(pickLang(undefined, undefined)).toBe('zh-CN');
    expect(pickLang('de', 'de-DE')).toBe('zh-CN');
    expect(pickLang(undefined, 'de-DE, en;q=0.1')).toBe('en');
  });

  it('every reason code and every UI key has words in both languages', () => {
    for (const lang of ['en', 'zh-CN'] as const) {
      for (const r of REASONS) expect(MESSAGES[lang][`reason.${r}`], `${lang} ${r}`).toBeTruthy();
    }
    expect(Object.keys(MESSAGES['zh-CN']).sort()).toEqual(Object.keys(MESSAGES.en).sort());
  });

  it('serves the page already in the reader\'s language, so the first paint is not English for a zh-CN browser', async () => {
    const page = (headers: Record<string, string>, url = '/') => h.app.inject({ method: 'GET', url, headers });
    const zh = await page({ 'accept-language': 'zh-CN,zh;q=0.9' });
    expect(zh.statusCode).toBe(200);
    expect(zh.headers['content-type']).toContain('text/html');
    expect(zh.headers['vary']).toContain('accept-language');
    expect(zh.body).toContain('<html lang="zh-CN">');
    expect(zh.body).toContain('<h1 data-i18n="auth.title">登录</h1>');
    expect(zh.body).toContain(`placeholder="${MESSAGES['zh-CN']['open.reason']}"`);
    expect(zh.body).not.toContain('>Sign in<');
    const en = await page({ 'accept-language': 'zh-CN', cookie: 'gc_lang=en' }, '/index.html');
    expect(en.body).toContain('<html lang="en">');
    expect(en.body).toContain('<h1 data-i18n="auth.title">Sign in</h1>');
    // The rest of the static files are still served as they are.
    expect((await page({}, '/js/i18n.js')).statusCode).toBe(200);
  });

  it('escapes the strings it fills in, and refuses a page it cannot translate', () => {
    const html = '<html lang="en"><title>x</title><p data-i18n="app.title">Gate</p><input data-i18n-ph="open.reason"></html>';
    expect(renderPage(html, 'zh-CN')).toBe(
      `<html lang="zh-CN"><title>${MESSAGES['zh-CN']['app.title']}</title><p data-i18n="app.title">${MESSAGES['zh-CN']['app.title']}</p><input data-i18n-ph="open.reason" placeholder="${MESSAGES['zh-CN']['open.reason']}"></html>`,
    );
    expect(() => renderPage('<p data-i18n="app.title">Gate <b>x</b></p>', 'en')).toThrow(/hold markup/);
    expect(() => renderPage('<p data-i18n="no.such.key">x</p>', 'en')).toThrow(/no en string for data-i18n key "no.such.key"/);
  });
});

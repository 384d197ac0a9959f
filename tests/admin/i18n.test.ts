/** The page's language: Accept-Language, the switch cookie, and complete dictionaries. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASONS } from '../../src/controller/reasons.js';
import { MESSAGES, pickLang } from '../../src/admin/i18n/index.js';
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
});

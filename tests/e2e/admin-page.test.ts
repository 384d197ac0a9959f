/**
 * The admin page end to end: the real daemon (dist/src/main.js with a config
 * file, sim reader on its stdin, sim GPIO traced to a file) and headless
 * Debian chromium driven by playwright-core. Screenshots of the main screens
 * go to test-output/screenshots/ (gitignored) for a reviewer.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { openDatabaseReadOnly } from '../../src/store/db.js';
import { buildDist, ROOT, startDaemon, type Daemon } from './daemon.js';

const SHOTS = join(ROOT, 'test-output', 'screenshots');
const XSS = '<img src=x onerror=alert(1)>';
const VISITOR_ID = '11010519491231002X';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function jpeg(color: string, w = 120, h = 150): Promise<Buffer> {
  return sharp({ create: { width: w, height: h, channels: 3, background: color } }).jpeg().toBuffer();
}

describe('admin page in chromium against the real daemon', () => {
  let daemon: Daemon;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];

  const shot = (name: string, p: Page = page) => p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const journal = () => {
    const db = openDatabaseReadOnly(daemon.dbPath);
    try {
      return (db.prepare('SELECT body FROM journal ORDER BY seq').all() as Array<{ body: string }>).map((r) => JSON.parse(r.body));
    } finally {
      db.close();
    }
  };
  async function signIn(p: Page): Promise<void> {
    await p.goto(daemon.url);
    await p.locator('#login-form input[name=name]').fill('admin');
    await p.locator('#login-form input[name=password]').fill(daemon.adminPassword());
    await p.locator('#login-form button[type=submit]').click();
    await p.locator('#app').waitFor({ state: 'visible', timeout: 10_000 });
    await p.locator('#live-state').filter({ hasText: /connected|已连接/ }).waitFor({ timeout: 10_000 });
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    buildDist();
    const staffPhoto = (await jpeg('#2a5caa')).toString('base64');
    daemon = await startDaemon({
      beforeStart: (dbPath) => {
        const store = openStore({ path: dbPath, synchronous: 'normal', gateId: 'e2e' });
        store.whitelist.upsert(
          {
            people: [
              { id: 'p-staff', kind: 'staff', name: 'Zhang San', photo: staffPhoto },
              { id: 'p-black', kind: 'contractor', name: 'Banned Qian' },
            ],
            credentials: [
              { key: 'card:04A1B2C3', personId: 'p-staff', status: 'active' },
              { key: 'card:DEADBEEF', personId: 'p-black', status: 'blacklisted' },
            ],
          },
          'central',
        );
        store.close();
      },
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 60_000 });
    context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      // Only the page's own confirm() for the mode switch is expected.
      void (d.type() === 'confirm' ? d.accept() : d.dismiss());
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    const code = await daemon?.stop();
    expect(code).toBe(0);
  }, 30_000);

  it('signs in with the first-start admin password (English, from Accept-Language)', async () => {
    await page.goto(daemon.url);
    await expect(page.locator('#login h1').textContent()).resolves.toBe('Sign in');
    await shot('01-sign-in-en');
    await signIn(page);
    expect(await page.locator('#who-name').textContent()).toBe('admin');
    // The log names the password file, never the password.
    expect(daemon.output()).toContain('admin-initial-password');
    expect(daemon.output()).not.toContain(daemon.adminPassword());
  }, 60_000);

  it('a tap at the reader appears on the live page in under a second, with the photo', async () => {
    const t0 = Date.now();
    daemon.type('04A1B2C3');
    const item = page.locator('#feed li[data-type=access]').filter({ hasText: 'Zhang San' }).first();
    await item.waitFor({ timeout: 1_000 });
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(1_000);
    await expect(item.locator('.reason').textContent()).resolves.toBe('Granted');
    await expect(item.locator('.cred').textContent()).resolves.toBe('card:****B2C3');
    const img = item.locator('img.photo');
    await expect(img.getAttribute('src')).resolves.toBe('/api/photos/p-staff');
    await page.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth === 120, await img.elementHandle());
    await shot('02-live-tap');
    console.log(`tap → live page: ${elapsed} ms`);
  }, 30_000);

  it('an alert stands out until acknowledged', async () => {
    daemon.type('DEADBEEF');
    const alert = page.locator('#alerts .alert-item').filter({ hasText: 'Banned Qian' });
    await alert.waitFor({ timeout: 2_000 });
    await expect(alert.textContent()).resolves.toContain('BLACKLISTED');
    await shot('03-alert');
    await page.reload();
    await page.locator('#app').waitFor({ state: 'visible' });
    await alert.waitFor({ timeout: 5_000 }); // still there after a reload
    await alert.locator('button').click();
    await alert.waitFor({ state: 'detached', timeout: 2_000 });
  }, 30_000);

  it('opens the passage manually with a reason: journaled with the operator, relay pulses', async () => {
    await page.locator('nav button[data-view=status]').click();
    await page.locator('#status-list dd[data-key="status.mode"]').waitFor();
    await shot('04-status');
    const before = daemon.traceLines().filter((l) => l.line === 'entry' && l.active).length;
    await page.locator('#open-form input[name=reason]').fill('delivery van');
    await page.locator('#open-form button[type=submit]').click();
    await page.locator('#open-result.ok').waitFor({ timeout: 3_000 });
    expect(await page.locator('#open-result').textContent()).toMatch(/^Opened \(journal #\d+\)$/);
    expect(journal().filter((e) => e.type === 'manual_open').pop()).toMatchObject({ direction: 'in', reason: 'delivery van', operator: 'admin', source: 'admin' });
    expect(daemon.traceLines().filter((l) => l.line === 'entry' && l.active).length).toBe(before + 1);
  }, 30_000);

  it('registers a visitor with an uploaded photo: EXIF gone, XSS name shown as text', async () => {
    await page.locator('nav button[data-view=register]').click();
    const f = page.locator('#reg-form');
    await f.locator('input[name=name]').fill(XSS);
    await f.locator('input[name=idNumber]').fill(VISITOR_ID);
    await f.locator('input[name=phone]').fill('+86 138 0013 8000');
    await f.locator('input[name=organisation]').fill('Acme Supplies');
    await f.locator('input[name=purpose]').fill('Deliver samples');
    await f.locator('input[name=host]').fill('Zhang San');
    await f.locator('input[name=escort]').uncheck();
    const withExif = await sharp(await jpeg('#3a6', 600, 400))
      .withMetadata({ orientation: 6 })
      .withExifMerge({ IFD0: { Copyright: 'secret-owner' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '39/1 54/1 27/1' } })
      .toBuffer();
    expect((await sharp(withExif).metadata()).exif).toBeDefined();
    await f.locator('input[name=photo]').setInputFiles({ name: 'phone.jpg', mimeType: 'image/jpeg', buffer: withExif });
    await page.locator('#reg-preview').waitFor({ state: 'visible' });
    await shot('05-register-form');
    await f.locator('button[type=submit]').click();
    await page.locator('#reg-result').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.locator('#pass-name').textContent()).toBe(XSS);
    expect(await page.locator('#pass-credential').textContent()).toBe('The ID card itself 1101**********002X');
    // Shown as text: no element was made from the name, nothing ran.
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs.filter((d) => d.startsWith('alert'))).toEqual([]);
    await shot('06-visitor-pass');

    const photos = readdirSync(join(daemon.dir, 'photos'));
    expect(photos).toHaveLength(1);
    const meta = await sharp(readFileSync(join(daemon.dir, 'photos', photos[0]!))).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    expect([meta.width, meta.height]).toEqual([320, 480]);
    const ev = journal().filter((e) => e.type === 'visitor_registered').pop();
    expect(ev.personId).toBe(photos[0]!.replace('.jpg', ''));
    expect(JSON.stringify(journal())).not.toContain('Acme');
  }, 60_000);

  it('the new visitor\'s ID card then passes the gate; the live page shows the XSS name as text with the photo', async () => {
    await page.locator('nav button[data-view=live]').click();
    daemon.type(VISITOR_ID);
    const item = page.locator('#feed li[data-type=access]').filter({ hasText: '1101**********002X' }).first();
    await item.waitFor({ timeout: 2_000 });
    expect(await item.locator('.name').textContent()).toBe(XSS);
    expect(await item.locator('.reason').textContent()).toBe('Granted');
    const src = await item.locator('img.photo').getAttribute('src');
    expect(src).toMatch(/^\/api\/photos\/[0-9a-f-]{36}$/);
    expect(journal().filter((e) => e.type === 'access').pop()).toMatchObject({ granted: true, reason: 'GRANTED' });
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs.filter((d) => d.startsWith('alert'))).toEqual([]);
    await shot('07-live-visitor');
  }, 30_000);

  it('a printed QR pass (passport visitor): the code renders, prints alone, and its token passes the gate', async () => {
    await page.locator('nav button[data-view=register]').click();
    const f = page.locator('#reg-form');
    await f.locator('input[name=name]').fill('Li Lei');
    await f.locator('select[name=idType]').selectOption('passport');
    await f.locator('input[name=idNumber]').fill('E12345678');
    await f.locator('input[name=phone]').fill('13900000000');
    await f.locator('input[name=organisation]').fill('Beta Ltd');
    await f.locator('input[name=purpose]').fill('Meeting');
    await f.locator('input[name=host]').fill('Zhang San');
    await f.locator('input[name=credential][value=pass]').check();
    await f.locator('input[name=photo]').setInputFiles({ name: 'p.png', mimeType: 'image/png', buffer: await sharp({ create: { width: 300, height: 300, channels: 3, background: '#a63' } }).png().toBuffer() });
    await f.locator('button[type=submit]').click();
    await page.locator('#pass-name', { hasText: 'Li Lei' }).waitFor({ timeout: 10_000 });
    const qr = page.locator('#pass-qr');
    await qr.waitFor({ state: 'visible' });
    await page.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0, await qr.elementHandle());
    await page.evaluate(() => document.body.classList.add('print-pass'));
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('#reg-form').isVisible()).toBe(false);
    expect(await qr.isVisible()).toBe(true);
    await shot('12-qr-pass-print');
    await page.emulateMedia({ media: 'screen' });
    await page.evaluate(() => document.body.classList.remove('print-pass'));

    // The token the QR code holds, read from the gate's own database, typed at the reader.
    const db = openDatabaseReadOnly(daemon.dbPath);
    const token = (db.prepare("SELECT pass_token FROM visitors WHERE name = 'Li Lei'").get() as { pass_token: string }).pass_token;
    db.close();
    expect(token).toMatch(/^GP1\./);
    await page.locator('nav button[data-view=live]').click();
    daemon.type(token);
    const item = page.locator('#feed li[data-type=access]').filter({ hasText: 'Li Lei' }).first();
    await item.waitFor({ timeout: 2_000 });
    expect(await item.locator('.reason').textContent()).toBe('Granted');
  }, 60_000);

  it('lists who is inside as a printable muster list', async () => {
    await page.locator('nav button[data-view=inside]').click();
    const rows = page.locator('#inside-table tbody tr');
    await rows.first().waitFor();
    const names = await page.locator('#inside-table tbody td.name').allTextContents();
    expect(names.sort()).toEqual([XSS, 'Li Lei', 'Zhang San'].sort());
    expect(await page.locator('#inside-count').textContent()).toBe('3');
    await shot('08-inside');
    // The print view: only the list, no navigation.
    await page.evaluate(() => document.body.classList.add('print-muster'));
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('nav.tabs').isVisible()).toBe(false);
    expect(await page.locator('#inside-table').isVisible()).toBe(true);
    await shot('09-muster-print');
    await page.emulateMedia({ media: 'screen' });
    await page.evaluate(() => document.body.classList.remove('print-muster'));
  }, 30_000);

  it('switches the mode after a confirmation (admin)', async () => {
    await page.locator('nav button[data-view=status]').click();
    await page.locator('#mode-form select[name=mode]').selectOption('lockdown');
    await page.locator('#mode-form input[name=reason]').fill('drill');
    await page.locator('#mode-form button[type=submit]').click();
    await page.locator('#mode-result.ok').waitFor({ timeout: 3_000 });
    expect(dialogs.some((d) => d.startsWith('confirm'))).toBe(true);
    expect(await page.locator('#mode-badge').textContent()).toBe('Lockdown');
    expect(journal().filter((e) => e.type === 'mode_changed').pop()).toMatchObject({ to: 'lockdown', operator: 'admin' });
    await page.locator('#mode-form select[name=mode]').selectOption('normal');
    await page.locator('#mode-form input[name=reason]').fill('drill over');
    await page.locator('#mode-form button[type=submit]').click();
    await page.locator('#mode-badge', { hasText: 'Normal' }).waitFor({ timeout: 3_000 });
  }, 30_000);

  it('searches the journal; an older answer that comes late never replaces the newer one', async () => {
    // Opening the view searches unfiltered at once; hold that answer back
    // until after the filtered one has been shown.
    let held = 0;
    const SEARCH = '**/api/journal/search';
    await page.route(SEARCH, async (route) => {
      if ((route.request().postDataJSON() as { reason?: string }).reason) return route.continue();
      held += 1;
      const response = await route.fetch();
      await new Promise((r) => setTimeout(r, 1_000));
      await route.fulfill({ response });
    });
    try {
      await page.locator('nav button[data-view=journal]').click();
      await page.locator('#journal-form select[name=reason]').selectOption('BLACKLISTED');
      await page.locator('#journal-form button[type=submit]').click();
      await page.locator('#journal-total', { hasText: '1 events' }).waitFor({ timeout: 3_000 });
      await page.waitForTimeout(1_500); // the held answer has arrived by now
      expect(held).toBe(1);
      expect(await page.locator('#journal-total').textContent()).toBe('1 events');
      expect(await page.locator('#journal-table tbody td.name').allTextContents()).toEqual(['Banned Qian']);
    } finally {
      await page.unroute(SEARCH);
    }
    await shot('10-journal');
  }, 30_000);

  it('an admin creates a guard account; the guard sees no admin tabs; a review registration waits for the admin', async () => {
    await page.locator('nav button[data-view=accounts]').click();
    const form = page.locator('#account-form');
    await form.locator('input[name=name]').fill('guard1');
    await form.locator('input[name=password]').fill('guard-password-1');
    await form.locator('button[type=submit]').click();
    await page.locator('#accounts-table tr[data-account=guard1]').waitFor({ timeout: 3_000 });
    await shot('13-accounts');

    const ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
    const g = await ctx.newPage();
    try {
      await g.goto(daemon.url);
      await g.locator('#login-form input[name=name]').fill('guard1');
      await g.locator('#login-form input[name=password]').fill('guard-password-1');
      await g.locator('#login-form button[type=submit]').click();
      await g.locator('#app').waitFor({ state: 'visible', timeout: 10_000 });
      expect(await g.locator('nav button[data-view=accounts]').isVisible()).toBe(false);
      expect(await g.locator('nav button[data-view=review]').isVisible()).toBe(false);
      expect(await g.locator('#mode-form').isVisible()).toBe(false);

      await g.locator('nav button[data-view=register]').click();
      const f = g.locator('#reg-form');
      await f.locator('input[name=name]').fill('Han Mei');
      await f.locator('input[name=idNumber]').fill('440524198001010013');
      await f.locator('input[name=phone]').fill('13700000000');
      await f.locator('input[name=organisation]').fill('Gamma Co');
      await f.locator('input[name=purpose]').fill('Audit');
      await f.locator('input[name=host]').fill('Zhang San');
      await f.locator('input[name=needsReview]').check();
      await f.locator('input[name=photo]').setInputFiles({ name: 'p.jpg', mimeType: 'image/jpeg', buffer: await jpeg('#777', 200, 250) });
      await f.locator('button[type=submit]').click();
      await g.locator('#pass-review').waitFor({ state: 'visible', timeout: 10_000 });
    } finally {
      await ctx.close();
    }
    daemon.type('440524198001010013');
    await page.locator('nav button[data-view=live]').click();
    await page.locator('#feed li[data-type=access]').filter({ hasText: 'Han Mei' }).filter({ hasText: 'Suspended' }).first().waitFor({ timeout: 3_000 });

    await page.locator('nav button[data-view=review]').click();
    const row = page.locator('#review-table tbody tr').filter({ hasText: 'Han Mei' });
    await row.waitFor({ timeout: 3_000 });
    expect(await row.textContent()).toContain('4405**********0013');
    await shot('14-review');
    await row.locator('button').click();
    await row.waitFor({ state: 'detached', timeout: 3_000 });
    daemon.type('440524198001010013');
    await page.locator('nav button[data-view=live]').click();
    await page.locator('#feed li[data-type=access]').filter({ hasText: 'Han Mei' }).filter({ hasText: 'Granted' }).first().waitFor({ timeout: 3_000 });
  }, 90_000);

  it('the daemon logged no personal data', () => {
    const out = daemon.output();
    expect(out).toContain('visitor registered');
    for (const secret of [XSS, 'Li Lei', 'Han Mei', 'Zhang San', 'Acme Supplies', '138 0013 8000', '13900000000', '13700000000', VISITOR_ID, '440524198001010013', 'E12345678']) {
      expect(out, secret).not.toContain(secret);
    }
  });

  it('speaks Chinese to a zh-CN browser, and switches to English on request', async () => {
    const zh = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1100, height: 900 } });
    const p = await zh.newPage();
    try {
      await p.goto(daemon.url);
      await expect(p.locator('#login h1').textContent()).resolves.toBe('登录');
      await signIn(p);
      expect(await p.locator('nav button[data-view=inside]').textContent()).toBe('在场人员');
      const granted = p.locator('#feed li[data-type=access] .reason').first();
      await granted.waitFor();
      expect(await p.locator('#feed li[data-type=access] .reason').allTextContents()).toContain('允许通行');
      expect(await p.locator('#feed li[data-type=access] .reason').allTextContents()).toContain('黑名单');
      await shot('11-live-zh-CN', p);
      await p.locator('#lang-select').selectOption('en');
      await p.locator('nav button[data-view=inside]', { hasText: 'Inside now' }).waitFor({ timeout: 3_000 });
      await p.reload();
      await p.locator('nav button[data-view=inside]', { hasText: 'Inside now' }).waitFor({ timeout: 5_000 });
    } finally {
      await zh.close();
    }
  }, 60_000);
});

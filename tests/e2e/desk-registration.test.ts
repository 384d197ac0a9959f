/**
 * Issue #17 end to end: the real daemon with two SAM resident ID card readers
 * on socat ptys (the reception desk's, `use: desk`, and the gate's), the
 * simulated module on the far end of each speaking the binary protocol at
 * 115200 baud, MQTT sync to a real mosquitto, and headless chromium.
 *
 * "Read ID card" on the registration form fills name and document from the
 * card on the desk reader; the registration goes through; the same card then
 * opens the gate. The clear ID number must appear in none of: the page's
 * network traffic (requests, responses, the live event stream), the database
 * files, the daemon's logs, the MQTT messages the gate published.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimSamModule } from '../../src/drivers/readers/sam/sim-module.js';
import { simCard } from '../../src/daemon/simulation-sam.js';
import { startPtyPair, type PtyPair } from '../helpers/socat.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { buildDist, startDaemon, type Daemon } from './daemon.js';

const NUMBER = '320102199003071239';
const NAME = '王芳𠀀';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Every form the number could take on a wire or on disk. */
const FORMS = [Buffer.from(NUMBER, 'utf8'), Buffer.from(NUMBER, 'utf16le'), Buffer.from(NUMBER.replace(/(\d{6})(\d{8})/, '$1 $2'), 'utf8')];
const holds = (b: Buffer) => FORMS.some((f) => b.includes(f));

describe('registration desk in chromium: SAM desk reader → form → gate', () => {
  let dir: string;
  let deskPair: PtyPair;
  let gatePair: PtyPair;
  let desk: SimSamModule;
  let gateModule: SimSamModule;
  let broker: Mosquitto;
  let daemon: Daemon;
  let browser: Browser;
  let page: Page;
  let mq: mqtt.MqttClient;
  const published: Array<{ topic: string; payload: Buffer }> = [];
  const traffic: Array<{ what: string; body: Buffer }> = [];

  beforeAll(async () => {
    buildDist();
    dir = mkdtempSync(join(tmpdir(), 'gc-e2e-desk-'));
    deskPair = await startPtyPair(dir, 5_000, { reader: 'desk', sim: 'desk.module' });
    gatePair = await startPtyPair(dir, 5_000, { reader: 'idcard', sim: 'idcard.module' });
    desk = new SimSamModule({ path: deskPair.simPath });
    gateModule = new SimSamModule({ path: gatePair.simPath });
    await desk.start();
    await gateModule.start();
    broker = await startMosquitto({ persistence: false });
    mq = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'e2e-listener' });
    mq.on('message', (topic, payload) => published.push({ topic, payload: Buffer.from(payload) }));
    await mq.subscribeAsync('#', { qos: 1 });
    daemon = await startDaemon({
      readers: [
        { id: 'idcard', type: 'serial', direction: 'in', path: gatePair.readerPath, format: 'sam', pollMs: 100 },
        { id: 'desk', type: 'serial', use: 'desk', path: deskPair.readerPath, format: 'sam', pollMs: 100 },
      ],
      mqtt: { url: broker.url, clientId: 'gate-e2e', keepaliveS: 5, statusIntervalS: 5 },
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 60_000 });
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
    page = await context.newPage();
    // Everything the page sends and receives, the live event stream included.
    page.on('request', (req) => {
      traffic.push({ what: `request ${req.method()} ${req.url()}`, body: Buffer.concat([Buffer.from(req.url()), req.postDataBuffer() ?? Buffer.alloc(0)]) });
    });
    page.on('response', async (res) => {
      if ((res.headers()['content-type'] ?? '').includes('text/event-stream')) return; // read through CDP below
      traffic.push({ what: `response ${res.url()}`, body: await res.body().catch(() => Buffer.alloc(0)) });
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    cdp.on('Network.eventSourceMessageReceived', (m: { data: string }) => traffic.push({ what: 'event stream', body: Buffer.from(m.data) }));
  }, 300_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    const code = await daemon?.stop();
    await mq?.endAsync().catch(() => {});
    await broker?.stop();
    await desk?.stop();
    await gateModule?.stop();
    await deskPair?.stop();
    await gatePair?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  }, 60_000);

  it('Read ID card fills name and document from the desk reader; the registration is kept without the clear number', async () => {
    await page.goto(daemon.url);
    await page.locator('#login-form input[name=name]').fill('admin');
    await page.locator('#login-form input[name=password]').fill(daemon.adminPassword());
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('#app').waitFor({ state: 'visible', timeout: 10_000 });
    await page.locator('nav button[data-view=register]').click();
    const f = page.locator('#reg-form');

    // An expired card first: refused with a clear message, nothing filled.
    await page.locator('#reg-read-card').click();
    await page.locator('#reg-card-status').filter({ hasText: 'Place the ID card' }).waitFor({ timeout: 5_000 });
    desk.place(simCard(NUMBER, Date.now(), { name: NAME, expired: true }));
    await page.locator('#reg-error').filter({ hasText: 'expired' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#reg-error').textContent()).toBe('This ID card has expired: it cannot be used to register');
    expect(await f.locator('input[name=name]').inputValue()).toBe('');
    desk.remove();
    await new Promise((r) => setTimeout(r, 400)); // the desk reader sees the card lifted

    await page.locator('#reg-read-card').click();
    await page.locator('#reg-card-status').filter({ hasText: 'Place the ID card' }).waitFor({ timeout: 5_000 });
    desk.place(simCard(NUMBER, Date.now(), { name: NAME }));
    await page.locator('#reg-card-status').filter({ hasText: 'read from the ID card' }).waitFor({ timeout: 10_000 });
    expect(await f.locator('input[name=name]').inputValue()).toBe(NAME);
    expect(await f.locator('input[name=idNumber]').inputValue()).toBe('3201**********1239');
    expect(await f.locator('input[name=idNumber]').isDisabled()).toBe(true);
    desk.remove();

    await f.locator('input[name=phone]').fill('+86 138 0013 8000');
    await f.locator('input[name=organisation]').fill('Acme Supplies');
    await f.locator('input[name=purpose]').fill('Deliver samples');
    await f.locator('input[name=host]').fill('Zhang San');
    const photo = await sharp({ create: { width: 300, height: 400, channels: 3, background: '#3a6' } }).jpeg().toBuffer();
    await f.locator('input[name=photo]').setInputFiles({ name: 'face.jpg', mimeType: 'image/jpeg', buffer: photo });
    await f.locator('button[type=submit]').click();
    await page.locator('#reg-result').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.locator('#pass-name').textContent()).toBe(NAME);
    expect(await page.locator('#pass-credential').textContent()).toBe('The ID card itself 3201**********1239');
  }, 90_000);

  it('the same card on the gate\'s SAM reader opens the gate, once per placement', async () => {
    await page.locator('nav button[data-view=live]').click();
    gateModule.place(simCard(NUMBER, Date.now(), { name: NAME }));
    const item = page.locator('#feed li[data-type=access]').filter({ hasText: '3201**********1239' }).first();
    await item.waitFor({ timeout: 10_000 });
    expect(await item.locator('.reason').textContent()).toBe('Granted');
    await new Promise((r) => setTimeout(r, 600)); // left on the reader: no second tap
    gateModule.remove();
    expect(await page.locator('#feed li[data-type=access]').filter({ hasText: '3201**********1239' }).count()).toBe(1);
  }, 30_000);

  it('the clear number is in no network traffic, no database file, no log line, no MQTT message', async () => {
    // Central got the registration (so the MQTT check below looked at something real).
    const until = Date.now() + 15_000;
    while (!published.some((m) => m.topic.endsWith('/registrations'))) {
      if (Date.now() > until) throw new Error(`no registration on MQTT; topics: ${[...new Set(published.map((m) => m.topic))].join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const reg = JSON.parse(published.find((m) => m.topic.endsWith('/registrations'))!.payload.toString());
    expect(JSON.stringify(reg)).toContain('3201**********1239');
    expect(published.some((m) => m.topic.endsWith('/events') && m.payload.includes('3201**********1239'))).toBe(true);

    expect(traffic.length).toBeGreaterThan(10);
    expect(traffic.some((t) => t.what.includes('/api/desk/read'))).toBe(true);
    expect(traffic.filter((t) => holds(t.body)).map((t) => t.what)).toEqual([]);
    expect(published.filter((m) => holds(m.payload)).map((m) => m.topic)).toEqual([]);
    expect(holds(Buffer.from(daemon.output()))).toBe(false);
    expect(daemon.output()).not.toContain('王芳');
    const dbFiles = readdirSync(daemon.dir).filter((n) => n.startsWith('gate.db'));
    expect(dbFiles).toContain('gate.db');
    expect(dbFiles.filter((n) => holds(readFileSync(join(daemon.dir, n))))).toEqual([]);
    // …while the masked form and the name are there: the files were the right ones.
    const db = Buffer.concat(dbFiles.map((n) => readFileSync(join(daemon.dir, n))));
    expect(db.includes(Buffer.from('3201**********1239'))).toBe(true);
    expect(db.includes(Buffer.from(NAME))).toBe(true);
  }, 30_000);
});

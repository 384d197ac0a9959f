/**
 * The admin page over HTTPS with a self-signed certificate made by openssl
 * as scripts/install-pi.sh makes it: the real daemon, started by hand with
 * umask 022, and Debian chromium signing in. Checks the Secure cookie, the
 * certificate the server presents, that plain HTTP gets nothing, and that
 * the files the daemon wrote (database, WAL, -shm, photo, first password)
 * are its own alone despite the umask.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist, startDaemon, type Daemon } from './daemon.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

describe('admin page over HTTPS (self-signed), files at rest', () => {
  let daemon: Daemon;
  let browser: Browser;
  let certDir: string;
  let certPem: string;
  let fingerprint: string;

  beforeAll(async () => {
    buildDist();
    certDir = mkdtempSync(join(tmpdir(), 'gc-tls-'));
    const cert = join(certDir, 'admin-tls.crt');
    const key = join(certDir, 'admin-tls.key');
    // The installer's command (scripts/install-pi.sh, step 7b).
    execFileSync('sh', ['-c', `umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj '/CN=gate-test' -addext 'subjectAltName=DNS:gate-test,DNS:localhost,IP:127.0.0.1' -keyout '${key}' -out '${cert}'`], { stdio: 'pipe' });
    certPem = readFileSync(cert, 'utf8');
    fingerprint = /Fingerprint=([0-9A-F:]+)/.exec(execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', cert], { encoding: 'utf8' }))![1]!;
    daemon = await startDaemon({
      tls: { cert, key },
      umask: 0o022,
      // A data directory others can read: the daemon names it in a warning (and leaves it alone).
      beforeStart: (dbPath) => chmodSync(dirname(dbPath), 0o755),
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 60_000 });
  }, 300_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    const code = await daemon?.stop();
    rmSync(certDir, { recursive: true, force: true });
    expect(code).toBe(0);
  }, 30_000);

  it('presents the certificate the installer made (same SHA-256 fingerprint)', async () => {
    const port = Number(new URL(daemon.url).port);
    const served = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ca: certPem, servername: 'localhost' }, () => {
        resolve(s.getPeerCertificate().fingerprint256);
        s.end();
      });
      s.on('error', reject);
    });
    expect(served).toBe(fingerprint);
    expect(daemon.url.startsWith('https://')).toBe(true);
  });

  it('plain HTTP to the page gets no page', async () => {
    const port = Number(new URL(daemon.url).port);
    const status = await new Promise<number | string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/', timeout: 5_000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? 'error'));
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end();
    });
    // Node's TLS server answers a plain request with 400 and closes; nothing of the page.
    expect(status === 400 || typeof status === 'string').toBe(true);
  });

  it('chromium signs in over HTTPS; the session cookie is Secure, HttpOnly, SameSite=Strict; the live feed connects', async () => {
    const context = await browser.newContext({ locale: 'en-US', ignoreHTTPSErrors: true });
    const page = await context.newPage();
    try {
      await page.goto(daemon.url);
      await page.locator('#login-form input[name=name]').fill('admin');
      await page.locator('#login-form input[name=password]').fill(daemon.adminPassword());
      await page.locator('#login-form button[type=submit]').click();
      await page.locator('#app').waitFor({ state: 'visible', timeout: 10_000 });
      await page.locator('#live-state').filter({ hasText: /connected|已连接/ }).waitFor({ timeout: 10_000 });
      const cookie = (await context.cookies()).find((c) => c.name === 'gc_session');
      expect(cookie).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict' });
      expect(await page.locator('#who-name').textContent()).toBe('admin');
    } finally {
      await context.close();
    }
  }, 60_000);

  it('started with umask 022, the daemon still keeps its files to itself; an open data directory is named in a warning', async () => {
    // A visitor with a photo, over HTTPS trusting exactly this certificate.
    const port = Number(new URL(daemon.url).port);
    const https = (method: string, path: string, body: Buffer | string, headers: Record<string, string>) =>
      new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port, path, method, headers, ca: certPem, servername: 'localhost' }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c) => (text += c)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const signIn = await https('POST', '/api/login', JSON.stringify({ name: 'admin', password: daemon.adminPassword() }), { 'content-type': 'application/json' });
    expect(signIn.status).toBe(200);
    const cookie = String(([] as string[]).concat(signIn.headers['set-cookie'] ?? [])[0]).split(';')[0]!;
    const csrf = JSON.parse(signIn.body).csrf as string;
    const photo = await sharp({ create: { width: 120, height: 150, channels: 3, background: '#888' } }).jpeg().toBuffer();
    const boundary = '----gcfiles';
    const now = Date.now();
    const fields: Record<string, string> = {
      name: 'File Test', idType: 'passport', idNumber: 'E99887766', phone: '13700000001', organisation: 'Org', purpose: 'Test',
      host: 'Host', validFrom: new Date(now - 60_000).toISOString(), validTo: new Date(now + 3600_000).toISOString(), credential: 'pass',
    };
    const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
    const body = Buffer.concat([
      Buffer.from(parts.join('')),
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="photo"; filename="p.jpg"\r\ncontent-type: image/jpeg\r\n\r\n`),
      photo,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const reg = await https('POST', '/api/visitors', body, { 'content-type': `multipart/form-data; boundary=${boundary}`, cookie, 'x-csrf-token': csrf });
    expect(reg.status, reg.body).toBe(201);

    const dir = daemon.dir;
    const files: Record<string, string> = {};
    for (const f of ['gate.db', 'gate.db-wal', 'gate.db-shm', 'admin-initial-password']) files[f] = mode(join(dir, f));
    files.photos = mode(join(dir, 'photos'));
    for (const f of readdirSync(join(dir, 'photos'))) files[`photos/${f.endsWith('.jpg') ? '*.jpg' : f}`] = mode(join(dir, 'photos', f));
    expect(files).toEqual({
      'gate.db': '600', 'gate.db-wal': '600', 'gate.db-shm': '600', 'admin-initial-password': '600', photos: '700', 'photos/*.jpg': '600',
    });
    const warning = daemon.output().split('\n').find((l) => l.includes('the data directory is open to other users'));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, dir, mode: '755' });
  }, 60_000);
});

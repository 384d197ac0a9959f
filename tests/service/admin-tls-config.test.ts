/**
 * scripts/admin-tls-config.ts: an upgraded gate whose kept config serves the
 * admin page beyond loopback over plain HTTP gets `admin.tls` pointing at
 * the installer's certificate, so it starts again instead of exiting 78;
 * every other config is left as it was.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withAdminTls } from '../../scripts/admin-tls-config.js';
import { loadConfigFile } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'admin-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TLS = { cert: '/etc/gate-controller/admin-tls.crt', key: '/etc/gate-controller/admin-tls.key' };
const BASE = `# site config, kept across upgrades\ngate: { id: g1, site: s1 }\nprivacy: { idHashKey: "${'07'.repeat(32)}" }\n`;

describe('admin.tls on an upgrade', () => {
  it('adds tls to a LAN listener without it, keeping comments and the other keys', () => {
    const before = `${BASE}admin:\n  listen: "0.0.0.0:8080"   # the local admin page\nlog:\n  level: info\n`;
    const r = withAdminTls(before, TLS);
    expect(r.changed).toBe(true);
    if (!r.changed) return;
    expect(r.text).toContain('# site config, kept across upgrades');
    expect(r.text).toContain('# the local admin page');
    const path = join(dir, 'upgraded.yaml');
    writeFileSync(path, r.text);
    const cfg = loadConfigFile(path); // would throw (exit 78 in the daemon) without tls
    expect(cfg.admin.tls).toEqual(TLS);
    expect(cfg.admin.listen).toBe('0.0.0.0:8080');
    expect(cfg.log.level).toBe('info');
  });

  it('leaves alone: no admin page, loopback only, tls already set, plain HTTP allowed on purpose', () => {
    expect(withAdminTls(BASE, TLS)).toEqual({ changed: false, why: 'no admin page' });
    expect(withAdminTls(`${BASE}admin: { listen: "127.0.0.1:8080" }\n`, TLS)).toEqual({ changed: false, why: 'loopback only' });
    expect(withAdminTls(`${BASE}admin: { listen: "[::1]:8080" }\n`, TLS)).toEqual({ changed: false, why: 'loopback only' });
    expect(withAdminTls(`${BASE}admin: { listen: "0.0.0.0:8443", tls: { cert: /x.crt, key: /x.key } }\n`, TLS)).toEqual({ changed: false, why: 'has tls' });
    expect(withAdminTls(`${BASE}admin: { listen: "0.0.0.0:8080", allowPlainHttp: true }\n`, TLS)).toEqual({ changed: false, why: 'plain HTTP allowed' });
  });

  it('the script rewrites the file in place (mode kept), a second run changes nothing, bad YAML changes nothing', () => {
    const path = join(dir, 'config.yaml');
    writeFileSync(path, `${BASE}admin: { listen: "0.0.0.0:8080" }\n`, { mode: 0o640 });
    const run = () =>
      spawnSync(process.execPath, ['dist/scripts/admin-tls-config.js', '--config', path, '--cert', TLS.cert, '--key', TLS.key], { encoding: 'utf8', timeout: 30_000 });
    const first = run();
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/admin\.tls added/);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(loadConfigFile(path).admin.tls).toEqual(TLS);
    const once = readFileSync(path, 'utf8');
    const second = run();
    expect(second.stdout).toMatch(/admin\.tls unchanged \(has tls\)/);
    expect(readFileSync(path, 'utf8')).toBe(once);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'admin: { listen: "0.0.0.0:8080"\n');
    const r = spawnSync(process.execPath, ['dist/scripts/admin-tls-config.js', '--config', bad, '--cert', TLS.cert, '--key', TLS.key], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not valid YAML/);
    expect(readFileSync(bad, 'utf8')).toBe('admin: { listen: "0.0.0.0:8080"\n');
  });
});

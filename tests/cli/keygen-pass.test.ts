import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyPass } from '../../src/credentials/pass.js';
import { loadPublicKey } from '../../src/sync/protocol/keys.js';
import { gatectl, tempDir } from './capture.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('gatectl keygen', () => {
  it('writes a 0600 private key and a public key, and prints the raw public key for the gate config', async () => {
    const r = await gatectl(['keygen', '--kid', 'k1', '--out', tmp.dir]);
    expect(r.code).toBe(0);
    const priv = join(tmp.dir, 'k1.key.pem');
    expect(statSync(priv).mode & 0o777).toBe(0o600);
    expect(readFileSync(priv, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const raw = r.out.trim().split('\n').at(-1)!;
    expect(Buffer.from(raw, 'base64')).toHaveLength(32);
    expect(loadPublicKey(raw).export({ format: 'pem', type: 'spki' })).toBe(readFileSync(join(tmp.dir, 'k1.pub.pem'), 'utf8'));
    expect(r.out).not.toContain('PRIVATE');
  });

  it('never overwrites a key without --force, and checks the kid', async () => {
    const again = await gatectl(['keygen', '--kid', 'k1', '--out', tmp.dir]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/k1\.key\.pem exists; not overwriting/);
    const bad = await gatectl(['keygen', '--kid', 'a/b']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--kid: expected 1-64 letters/);
  });
});

describe('gatectl pass issue', () => {
  it('signs a pass the gate verifies with central key, without the name, and writes a PNG QR code', async () => {
    const png = join(tmp.dir, 'out', 'pass.png');
    const r = await gatectl([
      'pass', 'issue', '--site', 's1', '--name', 'Wang Fang', '--from', '2026-11-23T09:00:00+08:00', '--to', '2026-11-23T17:00:00+08:00',
      '--max', '2', '--gates', 'g1,g2', '--host', 'p1', '--escort', '--key-file', join(tmp.dir, 'k1.key.pem'), '--out', png,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const token = r.out.trim().split('\n').at(-1)!;
    expect(token).toMatch(/^GP1\./);
    const pub = loadPublicKey(readFileSync(join(tmp.dir, 'k1.pub.pem'), 'utf8'));
    const v = verifyPass(token, [pub]);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.body).toMatchObject({ site: 's1', gates: ['g1', 'g2'], max: 2, host: 'p1', escort: true, nbf: Date.parse('2026-11-23T01:00:00Z') / 1000, exp: Date.parse('2026-11-23T09:00:00Z') / 1000 });
    expect(r.out).toContain(`credential key: pass:${v.body.pid}`);
    expect(r.out).toContain('Wang Fang'); // told to the operator…
    expect(Buffer.from(token.split('.')[1]!, 'base64url').toString()).not.toContain('Wang'); // …never put in the pass
    expect(readFileSync(png).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it('refuses a window that ends before it starts, with nothing written', async () => {
    const r = await gatectl([
      'pass', 'issue', '--site', 's1', '--name', 'X', '--from', '2026-11-23T17:00:00+08:00', '--to', '2026-11-23T09:00:00+08:00',
      '--key-file', join(tmp.dir, 'k1.key.pem'), '--out', join(tmp.dir, 'never.png'),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--to must be after --from/);
    expect(() => statSync(join(tmp.dir, 'never.png'))).toThrow();
  });
});

describe('gatectl --help', () => {
  it('lists every command and each has its own help', async () => {
    const r = await gatectl(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['keygen', 'whitelist push', 'cmd', 'pass issue', 'central', 'logs', 'journal verify']) expect(r.out).toContain(c);
    for (const c of [['keygen'], ['whitelist', 'push'], ['cmd'], ['pass', 'issue'], ['central'], ['logs']]) {
      const h = await gatectl([...c, '--help']);
      expect(h.code).toBe(0);
      expect(h.out).toMatch(/^Usage: gatectl /);
    }
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig } from '../src/config.js';

const base = { gate: { id: 'g1', site: 's1' }, privacy: { idHashKey: 'ab'.repeat(32) } };

function issuesOf(raw: unknown): string[] {
  try {
    parseConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected the config to be rejected');
}

describe('config', () => {
  it('fills every default from a minimal file', () => {
    const cfg = parseConfig(base);
    expect(cfg.storage).toEqual({ path: '/var/lib/gate-controller/gate.db', synchronous: 'normal' });
    expect(cfg.privacy.retention).toEqual({ eventsDays: 180, visitorDays: 30 });
    expect(cfg.access.passageTimeoutMs).toBe(8000);
    expect(cfg.gpio.backend).toBe('sim');
    expect(cfg.readers).toEqual([]);
    expect(cfg.mqtt).toBeUndefined();
  });

  it('names the offending key and the allowed values', () => {
    const issues = issuesOf({
      ...base,
      readers: [
        { id: 'a', type: 'pcsc', direction: 'in' },
        { id: 'b', type: 'serial', direction: 'out', path: '/dev/ttyUSB0', baudRate: 9601 },
      ],
    });
    expect(issues).toEqual(['readers[1].baudRate: expected one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200']);
  });

  it('reports missing required keys, unknown keys and bad enums together', () => {
    const issues = issuesOf({ gate: { id: 'g1' }, storage: { synchronous: 'sometimes' }, colour: 'red' });
    expect(issues).toContain('gate.site: required');
    expect(issues).toContain('privacy: required');
    expect(issues).toContain('storage.synchronous: expected one of normal, full');
    expect(issues).toContain('(root): unknown key(s) colour');
  });

  it('rejects a serial reader without a path, duplicate reader ids and a GPIO line used twice', () => {
    const issues = issuesOf({
      ...base,
      readers: [
        { id: 'x', type: 'serial', direction: 'in' },
        { id: 'x', type: 'pcsc', direction: 'out' },
      ],
      gpio: { relays: { entry: { line: 17 } }, buzzer: { line: 17 } },
    });
    expect(issues).toEqual([
      'readers[0].path: required for a serial reader',
      'readers[1].id: duplicate reader id "x"',
      'gpio.buzzer.line: BCM 17 is already used by gpio.relays.entry',
    ]);
  });

  it('rejects a short or non-hex idHashKey', () => {
    expect(issuesOf({ ...base, privacy: { idHashKey: 'zz' } })).toEqual([
      'privacy.idHashKey: expected at least 16 bytes as hex',
    ]);
  });

  it('loads YAML files and says when the file is not YAML or missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gc-config-'));
    const good = join(dir, 'good.yaml');
    writeFileSync(good, `gate: { id: g1, site: s1 }\nprivacy: { idHashKey: "${'cd'.repeat(16)}" }\nmqtt: { url: "mqtt://127.0.0.1:1883" }\n`);
    expect(loadConfigFile(good).mqtt?.window).toBe(2000);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'gate: { id: g1\n');
    expect(() => loadConfigFile(bad)).toThrow(/bad\.yaml is not valid YAML/);
    expect(() => loadConfigFile(join(dir, 'none.yaml'))).toThrow(/cannot read config/);
  });

  it('accepts the shipped example config once its key placeholder is filled, and refuses it before', () => {
    const example = new URL('../config/config.example.yaml', import.meta.url).pathname;
    expect(() => loadConfigFile(example)).toThrow(/privacy\.idHashKey/);
    const dir = mkdtempSync(join(tmpdir(), 'gc-config-'));
    const filled = join(dir, 'config.yaml');
    writeFileSync(filled, readFileSync(example, 'utf8').replace('REPLACE_WITH_64_HEX_CHARACTERS', 'ab'.repeat(32)));
    const cfg = loadConfigFile(filled);
    expect(cfg.gpio.backend).toBe('auto');
    expect(cfg.readers.length).toBeGreaterThan(0);
  });

  it('sam readers: 115200 baud and a 250 ms poll by default; a desk reader needs no direction; misuse is named', () => {
    const cfg = parseConfig({
      ...base,
      readers: [
        { id: 'idcard', type: 'serial', direction: 'in', path: '/dev/gate/idreader', format: 'sam' },
        { id: 'desk', type: 'serial', use: 'desk', path: '/dev/gate/desk', format: 'sam' },
        { id: 'qr', type: 'serial', direction: 'out', path: '/dev/ttyUSB0', format: 'qr' },
      ],
    });
    expect(cfg.readers.map((r) => [r.id, r.use, r.baudRate, r.pollMs])).toEqual([
      ['idcard', 'gate', 115200, 250],
      ['desk', 'desk', 115200, 250],
      ['qr', 'gate', 9600, 250],
    ]);
    expect(issuesOf({ ...base, readers: [{ id: 'a', type: 'serial', path: '/dev/x', format: 'sam' }] })).toEqual(['readers[0].direction: required for a gate reader']);
    expect(issuesOf({ ...base, readers: [{ id: 'a', type: 'serial', use: 'desk', path: '/dev/x', format: 'id' }] })).toEqual(['readers[0].use: a desk reader is a serial reader with format sam']);
    expect(issuesOf({ ...base, readers: [{ id: 'a', type: 'pcsc', direction: 'in', format: 'sam' }] })).toEqual(['readers[0].format: format sam needs type serial']);
  });

  it('admin page: plain HTTP listens on loopback only, unless TLS is configured or allowPlainHttp says so', () => {
    const admin = (a: Record<string, unknown>) => ({ ...base, admin: a });
    for (const listen of ['127.0.0.1:8080', '127.9.9.9:80', 'localhost:8080']) expect(parseConfig(admin({ listen })).admin.listen).toBe(listen);
    for (const listen of ['0.0.0.0:8080', '192.168.1.20:8080', 'gate.local:8080', '127.0.0.1.evil.example:80', '128.0.0.1:80']) {
      const issues = issuesOf(admin({ listen }));
      expect(issues.join('\n'), listen).toMatch(/admin\.listen: .* is not a loopback address; serve the page over HTTPS \(admin\.tls/);
    }
    expect(parseConfig(admin({ listen: '0.0.0.0:8443', tls: { cert: '/c.pem', key: '/k.pem' } })).admin.tls).toEqual({ cert: '/c.pem', key: '/k.pem' });
    expect(parseConfig(admin({ listen: '0.0.0.0:8080', allowPlainHttp: true })).admin.allowPlainHttp).toBe(true);
    expect(issuesOf(admin({ listen: '0.0.0.0:8443', tls: { cert: '/c.pem' } })).join()).toMatch(/admin\.tls\.key: required/);
    const d = parseConfig(admin({ listen: '127.0.0.1:1' })).admin;
    expect([d.maxAdvanceDays, d.maxVisitDays, d.allowPlainHttp]).toEqual([30, 30, false]);
    expect(issuesOf(admin({ maxVisitDays: 0 })).join()).toMatch(/admin\.maxVisitDays/);
  });
});

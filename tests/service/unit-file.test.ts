import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingNodeFlags, NODE_FLAGS } from '../../src/daemon/runtime-flags.js';

const UNIT = join(process.cwd(), 'systemd', 'gate-controller.service');
const text = readFileSync(UNIT, 'utf8');
const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const canVerify = analyze.status === 0;
if (!canVerify) console.warn(`systemd-analyze unavailable (${analyze.error?.message ?? analyze.stderr}): install Debian's systemd package`);

const dir = mkdtempSync(join(tmpdir(), 'unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** verify checks ExecStart's binary exists: point it at this node when /usr/bin/node is absent. */
function verify(unitText: string): { status: number | null; out: string } {
  const path = join(dir, 'gate-controller.service');
  const body = existsSync('/usr/bin/node') ? unitText : unitText.replace('/usr/bin/node', process.execPath);
  writeFileSync(path, body);
  const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

/** Key → values of the [Service] section, comments dropped. */
function serviceKeys(): Map<string, string[]> {
  const section = text.split(/^\[Service\]$/m)[1]!.split(/^\[/m)[0]!;
  const keys = new Map<string, string[]>();
  for (const raw of section.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [k, ...v] = line.split('=');
    keys.set(k!, [...(keys.get(k!) ?? []), v.join('=')]);
  }
  return keys;
}

describe('systemd/gate-controller.service', () => {
  it.runIf(canVerify)('passes systemd-analyze verify without a single complaint', () => {
    const r = verify(text);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  it.runIf(canVerify)('the same check does catch a misspelled key', () => {
    const r = verify(text.replace('WatchdogSec=30', 'WatchdogSecs=30'));
    expect(r.out).toMatch(/Unknown key 'WatchdogSecs'/);
  });

  it('is a notify service with the watchdog, restarts and the dedicated user', () => {
    const k = serviceKeys();
    expect(k.get('Type')).toEqual(['notify']);
    expect(k.get('NotifyAccess')).toEqual(['all']); // the notify message comes from a child
    expect(k.get('WatchdogSec')).toEqual(['30']);
    expect(k.get('Restart')).toEqual(['always']);
    expect(k.get('User')).toEqual(['gate']);
    expect(k.get('SupplementaryGroups')![0]!.split(' ').sort()).toEqual(['dialout', 'gpio']);
    expect(k.get('StateDirectory')).toEqual(['gate-controller']);
    expect(k.get('ConfigurationDirectory')).toEqual(['gate-controller']);
    expect(k.get('ExecStart')).toEqual(['/usr/bin/node --v8-pool-size=1 --max-semi-space-size=8 /opt/gate-controller/dist/src/main.js --config /etc/gate-controller/config.yaml']);
  });

  it('runs node with the runtime flags of src/daemon/runtime-flags.ts, as npm start, the installer and the benches do', () => {
    const flags = NODE_FLAGS.join(' ');
    const k = serviceKeys();
    expect(k.get('ExecStart')![0]).toContain(`/usr/bin/node ${flags} /opt/gate-controller/dist/src/main.js`);
    const scripts = (JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe(`node ${flags} dist/src/main.js`);
    for (const b of ['bench:decide', 'bench:readers', 'bench:sync']) expect(scripts[b], b).toContain(`node ${flags} dist/bench/`);
    expect(readFileSync(join(process.cwd(), 'scripts', 'install-pi.sh'), 'utf8')).toContain(`ExecStart=$NODE_BIN ${flags} $APP_DIR/dist/src/main.js`);
    expect(missingNodeFlags([], `--max-old-space-size=200 ${flags}`)).toEqual([]);
    expect(missingNodeFlags(['--v8-pool-size=1'], '')).toEqual(['--max-semi-space-size=8']);
  });

  it('hardens without the options that break GPIO, serial or V8', () => {
    const k = serviceKeys();
    expect(k.get('ProtectSystem')).toEqual(['strict']);
    expect(k.get('ReadWritePaths')).toEqual(['-/sys/class/gpio']);
    for (const breaking of ['PrivateDevices', 'ProtectKernelTunables', 'MemoryDenyWriteExecute', 'ProtectClock', 'PrivateUsers', 'DeviceAllow', 'DevicePolicy']) {
      expect(k.has(breaking), breaking).toBe(false);
    }
    expect(k.get('RestrictAddressFamilies')![0]).toContain('AF_UNIX'); // pcscd socket
  });
});

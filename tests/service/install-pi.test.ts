import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = join(process.cwd(), 'scripts', 'install-pi.sh');
/** Everything a real run would create or change on the Pi. */
const TARGETS = [
  '/opt/gate-controller',
  '/etc/gate-controller',
  '/var/lib/gate-controller',
  '/etc/systemd/system/gate-controller.service',
  '/etc/systemd/system/gate-controller.service.d',
  '/etc/udev/rules.d/99-gate-controller.rules',
  '/etc/modprobe.d/gate-controller-nfc-blacklist.conf',
  '/etc/polkit-1/rules.d/60-gate-controller-pcscd.rules',
];
/** Commands that change the system: in a dry run none may be executed. */
const MUTATORS = ['apt-get', 'groupadd', 'useradd', 'usermod', 'install', 'udevadm', 'modprobe', 'systemctl', 'rsync', 'npm', 'sed', 'sudo', 'openssl', 'chown', 'chmod', 'cp', 'mkdir'];

const dir = mkdtempSync(join(tmpdir(), 'install-pi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A PATH whose first entries are shims: `node` of a chosen version, `id` of a chosen uid, recorders for mutators. */
function shimPath(name: string, opts: { nodeVersion: string; uid: number; arch?: string }): { path: string; calls: string } {
  const bin = join(dir, name, 'bin');
  mkdirSync(bin, { recursive: true });
  const calls = join(dir, name, 'calls.log');
  writeFileSync(calls, '');
  const shim = (cmd: string, body: string) => {
    writeFileSync(join(bin, cmd), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, cmd), 0o755);
  };
  shim('node', `[ "$1" = --version ] && echo ${opts.nodeVersion} && exit 0\necho "node $*" >> ${calls}`);
  shim('id', `[ "$1" = -u ] && echo ${opts.uid} && exit 0\nexec /usr/bin/id "$@"`);
  for (const m of MUTATORS) shim(m, `echo "${m} $*" >> ${calls}\nexit 0`);
  if (opts.arch) shim('dpkg', `[ "$1" = --print-architecture ] && echo ${opts.arch} && exit 0\nexec /usr/bin/dpkg "$@"`);
  return { path: `${bin}:${process.env.PATH}`, calls };
}

function runInstaller(args: string[], opts: { nodeVersion: string; uid: number; arch?: string; osRelease?: string }, name: string) {
  const shims = shimPath(name, opts);
  const env: Record<string, string> = { PATH: shims.path, HOME: dir };
  if (opts.osRelease) {
    env.GATE_OS_RELEASE = join(dir, name, 'os-release');
    writeFileSync(env.GATE_OS_RELEASE, opts.osRelease);
  }
  const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr, calls: readFileSync(shims.calls, 'utf8') };
}

const snapshot = () => TARGETS.map((p) => (existsSync(p) ? `${p}@${statSync(p).mtimeMs}` : `${p}:absent`));

describe('scripts/install-pi.sh --dry-run', () => {
  it('prints the whole plan in order and executes nothing', () => {
    const before = snapshot();
    const r = runInstaller(['--dry-run'], { nodeVersion: 'v22.11.0', uid: 0 }, 'root');
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.calls).toBe(''); // not one mutating command ran
    expect(snapshot()).toEqual(before);

    const plan = r.out.split('\n').filter((l) => l.startsWith('+ '));
    const expectInOrder = [
      /^\+ apt-get update$/,
      /apt-get install -y --no-install-recommends pcscd libpcsclite-dev .*build-essential/,
      /^\+ usermod -aG gpio,dialout gate$/,
      /^\+ install -D -m 0644 .*scripts\/udev\/99-gate-controller\.rules \/etc\/udev\/rules\.d\/99-gate-controller\.rules$/,
      /^\+ install -D -m 0644 .*gate-controller-nfc-blacklist\.conf \/etc\/modprobe\.d\/gate-controller-nfc-blacklist\.conf$/,
      /^\+ udevadm control --reload-rules$/,
      /^\+ systemctl enable --now pcscd\.socket$/,
      /^\+ rsync -a --delete --exclude=node_modules .* \/opt\/gate-controller\/$/,
      /^\+ \(cd \/opt\/gate-controller && npm ci --no-audit --no-fund\)$/,
      /^\+ \(cd \/opt\/gate-controller && npm run build\)$/,
      /^\+ install -m 0640 -o root -g gate .*config\/config\.example\.yaml \/etc\/gate-controller\/config\.yaml$/,
      /^\+ sed -i s\/REPLACE_WITH_64_HEX_CHARACTERS\/<openssl rand -hex 32>\/ \/etc\/gate-controller\/config\.yaml$/,
      /^\+ install -d -m 0750 -o gate -g gate \/var\/lib\/gate-controller$/,
      // A self-signed certificate for the admin page, its key never readable by others, and its fingerprint.
      /^\+ sh -c umask 077 && openssl req -x509 -newkey ec .*-subj '\/CN=[^']+' -addext 'subjectAltName=DNS:[^']+' -keyout '\/etc\/gate-controller\/admin-tls\.key' -out '\/etc\/gate-controller\/admin-tls\.crt'$/,
      /^\+ chown root:gate \/etc\/gate-controller\/admin-tls\.key$/,
      /^\+ chmod 0640 \/etc\/gate-controller\/admin-tls\.key$/,
      /^\+ openssl x509 -noout -fingerprint -sha256 -in \/etc\/gate-controller\/admin-tls\.crt$/,
      // A kept config from before HTTPS is pointed at that certificate (scripts/admin-tls-config.ts).
      /^\+ \S*node\S* \/opt\/gate-controller\/dist\/scripts\/admin-tls-config\.js --config \/etc\/gate-controller\/config\.yaml --cert \/etc\/gate-controller\/admin-tls\.crt --key \/etc\/gate-controller\/admin-tls\.key$/,
      /^\+ install -D -m 0644 .*systemd\/gate-controller\.service \/etc\/systemd\/system\/gate-controller\.service$/,
      /^\+ systemctl daemon-reload$/,
      /^\+ systemctl enable gate-controller\.service$/,
      /^\+ systemctl restart gate-controller\.service$/,
    ];
    let at = 0;
    for (const re of expectInOrder) {
      const found = plan.findIndex((l, i) => i >= at && re.test(l));
      expect(found, `plan line ${re} (after line ${at})`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
    expect(r.out).toMatch(/DRY RUN: nothing will be changed/);
    // The node under test is a shim, not /usr/bin/node: the unit gets a drop-in with the real path.
    expect(r.out).toMatch(/\+ write \/etc\/systemd\/system\/gate-controller\.service\.d\/node-path\.conf/);
  });

  it('prefixes every action with sudo when not run as root', () => {
    const r = runInstaller(['--dry-run'], { nodeVersion: 'v24.3.0', uid: 1000 }, 'user');
    expect(r.status).toBe(0);
    expect(r.calls).toBe('');
    const plan = r.out.split('\n').filter((l) => l.startsWith('+ ') && !l.startsWith('+ write') && !l.startsWith('+ (cd'));
    expect(plan.length).toBeGreaterThan(10);
    const unprefixed = plan.filter((l) => !l.startsWith('+ sudo ') && !/^\+ sed -i s\/REPLACE/.test(l) && !/require\(.sharp.\)/.test(l));
    expect(unprefixed).toEqual([]);
  });

  it('refuses Node 20 with a clear message, before touching anything', () => {
    const r = runInstaller(['--dry-run'], { nodeVersion: 'v20.20.2', uid: 0 }, 'node20');
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/Node\.js v20\.20\.2 is too old: the gate needs Node 22 or 24 LTS/);
    expect(r.out).not.toMatch(/^\+ /m);
  });

  it('refuses a non-LTS Node and an unknown option', () => {
    expect(runInstaller(['--dry-run'], { nodeVersion: 'v23.1.0', uid: 0 }, 'node23').err).toMatch(/not an LTS line/);
    const bad = runInstaller(['--dry-rnu'], { nodeVersion: 'v22.11.0', uid: 0 }, 'badopt');
    expect(bad.status).toBe(2);
    expect(bad.err).toMatch(/unknown option --dry-rnu/);
  });

  const TRIXIE = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_CODENAME=trixie\n';
  const BOOKWORM = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\n';

  it('installs on Trixie and Bookworm (arm64): GPIO backend reported, relay boot levels written into config.txt', () => {
    for (const [name, osRelease] of [['trixie', TRIXIE], ['bookworm', BOOKWORM]] as const) {
      const r = runInstaller(['--dry-run'], { nodeVersion: 'v24.3.0', uid: 0, arch: 'arm64', osRelease }, name);
      expect(r.err).toBe('');
      expect(r.status).toBe(0);
      expect(r.calls).toBe('');
      expect(r.out).toMatch(new RegExp(`system: Debian GNU/Linux 1[23] \\(${name}\\)`));
      expect(r.out).toMatch(/GPIO: .*gpio\.backend auto uses (cdev|onoff)|neither \/dev\/gpiochip\* nor/);
      const plan = r.out.split('\n').filter((l) => l.startsWith('+ '));
      const usermod = plan.findIndex((l) => /usermod -aG gpio,dialout gate$/.test(l));
      const levels = plan.findIndex((l) => /node \/opt\/gate-controller\/dist\/scripts\/gpio-boot-levels\.js --config \/etc\/gate-controller\/config\.yaml --write \/boot\/(firmware\/)?config\.txt$/.test(l));
      const restart = plan.findIndex((l) => /systemctl restart gate-controller\.service$/.test(l));
      expect(usermod).toBeGreaterThanOrEqual(0);
      expect(levels).toBeGreaterThan(usermod);
      expect(restart).toBeGreaterThan(levels);
    }
  });

  it('refuses a 32-bit OS and a release it does not know, with clear messages, before touching anything', () => {
    const armhf = runInstaller(['--dry-run'], { nodeVersion: 'v22.11.0', uid: 0, arch: 'armhf', osRelease: BOOKWORM }, 'armhf');
    expect(armhf.status).toBe(1);
    expect(armhf.err).toMatch(/this is a 32-bit OS \(armhf\): .*Install Raspberry Pi OS \(64-bit\)/);
    expect(armhf.out).not.toMatch(/^\+ /m);
    const bullseye = runInstaller(
      ['--dry-run'],
      { nodeVersion: 'v22.11.0', uid: 0, arch: 'arm64', osRelease: 'PRETTY_NAME="Raspbian GNU/Linux 11 (bullseye)"\nVERSION_CODENAME=bullseye\n' },
      'bullseye',
    );
    expect(bullseye.status).toBe(1);
    expect(bullseye.err).toMatch(/Raspbian GNU\/Linux 11 \(bullseye\) \(bullseye\): the installer supports Raspberry Pi OS \(64-bit\) Bookworm \(12\) and Trixie \(13\)/);
    expect(bullseye.out).not.toMatch(/^\+ /m);
  });
});

/**
 * The GPIO test rig: Debian's 6.1 kernel under QEMU (TCG: KVM is not usable
 * here) with gpio-sim, built once by scripts/gpio-rig/build.sh into a cache
 * dir. One boot runs one script inside a chroot of the host's root (shared
 * read-only over virtio-9p, so the guest runs this checkout's dist/ with this
 * very node) and leaves its files in a job dir shared read-write. The boot is
 * bounded: QEMU is killed at the deadline.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Builds the rig if the cache lacks it (minutes once; instant after) and returns the cache dir. */
export function rigCache(): string {
  const r = spawnSync('bash', [join(ROOT, 'scripts/gpio-rig/build.sh')], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`scripts/gpio-rig/build.sh failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim().split('\n').pop()!;
}

export interface RigRun {
  job: string;
  console: string;
  exit: number | null;
  elapsedMs: number;
}

/** Boots the guest, runs `script` (sh) in the job dir inside the chroot, and returns when the guest powers off. */
export async function runInRig(script: string, opts: { timeoutMs: number }): Promise<RigRun> {
  const cache = rigCache();
  const job = mkdtempSync(join(tmpdir(), 'gpio-rig-'));
  writeFileSync(join(job, 'run'), `set -e\nexport PATH=/usr/local/bin:/usr/bin:/bin HOME=/run\n${script}\n`);
  const args = [
    '-accel', 'tcg', '-cpu', 'max', '-smp', '2', '-m', '1536',
    '-nographic', '-no-reboot', '-nic', 'none',
    '-kernel', join(cache, 'vmlinuz'),
    '-initrd', join(cache, 'initramfs.gz'),
    '-append', `console=ttyS0 quiet panic=-1 rig.job=${job}`,
    '-fsdev', 'local,id=root,path=/,security_model=none,readonly=on,multidevs=remap',
    '-device', 'virtio-9p-pci,fsdev=root,mount_tag=hostroot',
    '-fsdev', `local,id=job,path=${job},security_model=none,multidevs=remap`,
    '-device', 'virtio-9p-pci,fsdev=job,mount_tag=job',
  ];
  const t0 = Date.now();
  const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  qemu.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  qemu.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const timer = setTimeout(() => qemu.kill('SIGKILL'), opts.timeoutMs);
  await new Promise<void>((r) => qemu.once('exit', () => r()));
  clearTimeout(timer);
  const m = /RIG-EXIT (\d+)/.exec(out);
  writeFileSync(join(job, 'console.log'), out);
  return { job, console: out, exit: m ? Number(m[1]) : null, elapsedMs: Date.now() - t0 };
}

export function readJsonLines<T = Record<string, unknown>>(path: string): T[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

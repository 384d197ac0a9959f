/**
 * Starts Debian's pcscd in the foreground for one test file, with the
 * vsmartcard-vpcd driver. pcscd and its socket are machine-wide: only one
 * test file at a time may use this helper (PCSCD_LOCK), and it refuses to
 * start over a pcscd it did not start.
 *
 * vpcd's ports. Debian's /etc/reader.conf.d/vpcd puts vpcd's two slots on
 * 35963 and 35964, inside Linux's ephemeral range (32768-60999): any test's
 * outgoing connection (to mosquitto, the admin server...) may hold one of
 * them as its local port, and vpcd's bind then fails with "Address already in
 * use" (a CI run on 2026-11-24 lost both pcscd test files that way). So the
 * helper writes its own reader.conf.d with a free port pair BELOW the
 * ephemeral range, read from /proc/sys/net/ipv4/ip_local_port_range, and
 * starts pcscd with `--config` on it. The device, driver and reader names
 * are Debian's ("Virtual PCD 00 00", "... 00 01").
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PCSCD_SOCKET = process.env.PCSCLITE_CSOCK_NAME ?? '/run/pcscd/pcscd.comm';

/** Slot 0's port (reader "Virtual PCD 00 00"); slot 1 listens on VPCD_PORT + 1. */
export const VPCD_PORT = pickVpcdPort();

let confDir: string | undefined;

/** A reader.conf.d holding one vpcd entry on VPCD_PORT, written once per process. */
function vpcdConfDir(): string {
  if (confDir) return confDir;
  const dir = mkdtempSync(join(tmpdir(), 'gate-vpcd-'));
  const hex = `0x${VPCD_PORT.toString(16).toUpperCase()}`;
  writeFileSync(
    join(dir, 'vpcd'),
    [
      'FRIENDLYNAME "Virtual PCD"',
      `DEVICENAME   /dev/null:${hex}`,
      'LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so',
      `CHANNELID    ${hex}`,
      '',
    ].join('\n'),
  );
  confDir = dir;
  return dir;
}

/**
 * The first pair (p, p + 1) from 24963 up with neither port in any socket
 * table, kept below the ephemeral range (or above it, if that starts low).
 */
export function pickVpcdPort(): number {
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [
    number,
    number,
  ];
  const used = portsInUse();
  const free = (p: number) => !used.has(p) && !used.has(p + 1);
  for (let p = 24_963; p + 1 < low; p += 2) if (free(p)) return p;
  for (let p = high + 1; p + 1 <= 65_535; p += 2) if (free(p)) return p;
  throw new Error(`no free port pair for vpcd outside the ephemeral range ${low}-${high}`);
}

/** Local ports of every TCP socket (any state) in /proc/net/tcp and tcp6. */
function portsInUse(): Set<number> {
  const used = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 on this machine
    }
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local) used.add(parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return used;
}

export interface Pcscd {
  readonly pid: number;
  /** pcscd's own output (foreground logs), for failure messages. */
  output(): string;
  /** SIGTERM (or the given signal), then SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

export async function startPcscd(timeoutMs = 10_000): Promise<Pcscd> {
  if (await socketAnswers(PCSCD_SOCKET, 300)) {
    throw new Error(`a pcscd not started by this test already answers on ${PCSCD_SOCKET}`);
  }
  const child = spawn('pcscd', ['--foreground', '--info', '--config', vpcdConfDir()], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', stopMs = 5_000) => {
    if (exited) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), stopMs);
    await exit;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`pcscd exited at start:\n${out}`);
    if ((await socketAnswers(PCSCD_SOCKET, 300)) && vpcdListening()) {
      return { pid: child.pid ?? -1, output: () => out, stop };
    }
    await sleep(50);
  }
  await stop('SIGKILL');
  throw new Error(`pcscd not ready within ${timeoutMs} ms:\n${out}`);
}

/** vpcd listens on both slots' ports once pcscd has loaded it (state 0A = LISTEN). */
function vpcdListening(): boolean {
  const text = readFileSync('/proc/net/tcp', 'utf8') + readFileSync('/proc/net/tcp6', 'utf8');
  const listening = (p: number) => {
    const port = p.toString(16).toUpperCase().padStart(4, '0');
    return text.split('\n').some((l) => {
      const f = l.trim().split(/\s+/);
      return f[1]?.endsWith(`:${port}`) && f[3] === '0A';
    });
  };
  return listening(VPCD_PORT) && listening(VPCD_PORT + 1);
}

function socketAnswers(path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

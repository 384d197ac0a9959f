/**
 * Starts Debian's pcscd in the foreground for one test file, with the
 * vsmartcard-vpcd driver. pcscd and its socket are machine-wide: only one
 * test file at a time may use this helper (PCSCD_LOCK), and it refuses to
 * start over a pcscd it did not start.
 *
 * vpcd's ports. Debian's /etc/reader.conf.d/vpcd puts vpcd's two slots on
 * 35963 and 35964, inside Linux's ephemeral range (32768-60999), where
 * every server the tests start on port 0 (mosquitto, the admin page, TCP
 * proxies) gets its port: when one holds 35964, vpcd's bind fails with
 * "Address already in use" (a CI run on 2026-11-24 lost both pcscd test
 * files that way; reproduced with a listener on 35964). So the
 * helper writes its own reader.conf.d with a free port pair BELOW the
 * ephemeral range, read from /proc/sys/net/ipv4/ip_local_port_range, and
 * starts pcscd with `--config` on it. The device, driver and reader names
 * are Debian's ("Virtual PCD 00 00", "... 00 01").
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './until.js';

export const PCSCD_SOCKET = process.env.PCSCLITE_CSOCK_NAME ?? '/run/pcscd/pcscd.comm';

/** Slot 0's port (reader "Virtual PCD 00 00"); slot 1 listens on VPCD_PORT + 1. */
export const VPCD_PORT = pickVpcdPort();

/** A reader.conf.d holding one vpcd entry on VPCD_PORT (removed by the Pcscd's stop()). */
function writeVpcdConf(): string {
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
  return dir;
}

/**
 * The first pair (p, p + 1) from 24963 up with neither port in any socket
 * table, kept below the ephemeral range (or above it, if that starts low).
 */
function pickVpcdPort(): number {
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [
    number,
    number,
  ];
  const used = new Set(tcpSockets().map((s) => s.port));
  const free = (p: number) => !used.has(p) && !used.has(p + 1);
  for (let p = 24_963; p + 1 < low; p += 2) if (free(p)) return p;
  for (let p = high + 1; p + 1 <= 65_535; p += 2) if (free(p)) return p;
  throw new Error(`no free port pair for vpcd outside the ephemeral range ${low}-${high}`);
}

/** Local port and state (0A = LISTEN) of every TCP socket in /proc/net/tcp and tcp6. */
function tcpSockets(): Array<{ port: number; listening: boolean }> {
  const sockets: Array<{ port: number; listening: boolean }> = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 on this machine
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]) sockets.push({ port: parseInt(f[1].slice(f[1].lastIndexOf(':') + 1), 16), listening: f[3] === '0A' });
    }
  }
  return sockets;
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
  const conf = writeVpcdConf();
  const child = spawn('pcscd', ['--foreground', '--info', '--config', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
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
      rmSync(conf, { recursive: true, force: true });
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
  const ready = async () => {
    if (exited) throw new Error(`pcscd exited at start:\n${out}`);
    return (await socketAnswers(PCSCD_SOCKET, 300)) && vpcdListening();
  };
  try {
    await until(ready, { what: 'pcscd and vpcd ready', timeoutMs, intervalMs: 50, diag: () => out });
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
  return { pid: child.pid ?? -1, output: () => out, stop };
}

/** vpcd listens on both slots' ports once pcscd has loaded it. */
function vpcdListening(): boolean {
  const listening = new Set(tcpSockets().filter((s) => s.listening).map((s) => s.port));
  return listening.has(VPCD_PORT) && listening.has(VPCD_PORT + 1);
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

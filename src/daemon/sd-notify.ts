/**
 * sd_notify for Type=notify: READY=1 after start, WATCHDOG=1 every
 * WATCHDOG_USEC/2 while the daemon is healthy, STOPPING=1 on the way out.
 * Nothing at all when NOTIFY_SOCKET is unset (npm start, tests, benches).
 *
 * Node cannot send AF_UNIX datagrams (nodejs/node#31414), so each message is
 * sent by the `systemd-notify` binary as a child process; the unit needs
 * NotifyAccess=all for systemd to accept a message from our child. By default
 * systemd-notify (systemd ≥ 246) waits on a BARRIER=1 until PID 1 has
 * processed the message, which closes the race where the child exits before
 * systemd can attribute the message to our unit. A child never blocks the
 * event loop; each one is killed after `timeoutMs`.
 */
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Logger } from '../log.js';

export type SpawnLike = (command: string, args: string[], options: SpawnOptions) => ChildProcess;

export interface SdNotifyDeps {
  env: NodeJS.ProcessEnv;
  log: Logger;
  spawn?: SpawnLike;
  /** Default: systemd-notify from PATH. */
  binary?: string;
  /** A notify child still running after this is killed. Default 10 s. */
  timeoutMs?: number;
}

export class SdNotify {
  /** NOTIFY_SOCKET is set: we run under systemd (or a test standing in for it). */
  readonly enabled: boolean;
  /** WATCHDOG_USEC/2 in ms when systemd asked this process for keep-alives. */
  readonly watchdogIntervalMs: number | undefined;
  private readonly spawn: SpawnLike;
  private readonly binary: string;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private watchdogInFlight = false;
  private unhealthy = false;
  private missingBinaryLogged = false;

  constructor(private readonly deps: SdNotifyDeps) {
    this.log = deps.log;
    this.enabled = Boolean(deps.env.NOTIFY_SOCKET);
    this.spawn = deps.spawn ?? nodeSpawn;
    this.binary = deps.binary ?? 'systemd-notify';
    this.timeoutMs = deps.timeoutMs ?? 10_000;
    this.watchdogIntervalMs = this.enabled ? watchdogInterval(deps.env) : undefined;
  }

  /** READY=1 (with an optional STATUS= line). Resolves true when systemd-notify succeeded. */
  ready(status?: string): Promise<boolean> {
    return this.send(status ? ['READY=1', `STATUS=${status}`] : ['READY=1']);
  }

  /** STOPPING=1: systemd shows "deactivating" while we drain. */
  stopping(): Promise<boolean> {
    return this.send(['STOPPING=1']);
  }

  /**
   * WATCHDOG=1 every WATCHDOG_USEC/2, skipped while `isHealthy()` is false
   * (systemd then restarts us after WatchdogSec) and while the previous ping
   * is still in flight. A blocked event loop sends nothing by itself.
   */
  startWatchdog(isHealthy: () => boolean): void {
    if (!this.enabled || this.watchdogIntervalMs === undefined || this.timer) return;
    this.log.info({ intervalMs: this.watchdogIntervalMs }, 'systemd watchdog armed');
    this.timer = setInterval(() => this.tick(isHealthy), this.watchdogIntervalMs);
    this.timer.unref();
  }

  /** Stop the watchdog pings (a ping in flight finishes on its own). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(isHealthy: () => boolean): void {
    let healthy: boolean;
    try {
      healthy = isHealthy();
    } catch (err) {
      this.log.error({ err }, 'health check threw; watchdog ping withheld');
      healthy = false;
    }
    if (!healthy) {
      if (!this.unhealthy) this.log.warn('unhealthy: withholding watchdog pings, systemd will restart the service');
      this.unhealthy = true;
      return;
    }
    if (this.unhealthy) this.log.info('healthy again: watchdog pings resumed');
    this.unhealthy = false;
    if (this.watchdogInFlight) return;
    this.watchdogInFlight = true;
    void this.send(['WATCHDOG=1']).finally(() => {
      this.watchdogInFlight = false;
    });
  }

  private send(fields: string[]): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    return new Promise((resolve) => {
      let child: ChildProcess;
      try {
        child = this.spawn(this.binary, fields, { env: this.deps.env, stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (err) {
        this.log.error({ err, fields }, 'systemd-notify could not be started');
        resolve(false);
        return;
      }
      let stderr = '';
      child.stderr?.on('data', (b: Buffer) => {
        if (stderr.length < 500) stderr += b.toString();
      });
      const killer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs);
      killer.unref();
      let done = false;
      const finish = (ok: boolean, detail: Record<string, unknown>) => {
        if (done) return;
        done = true;
        clearTimeout(killer);
        if (!ok) this.log.warn({ fields, ...detail, stderr: stderr.trim() || undefined }, 'systemd-notify failed');
        resolve(ok);
      };
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') {
          if (!this.missingBinaryLogged) this.log.error(`${this.binary} not found: install the systemd package`);
          this.missingBinaryLogged = true;
          done = true;
          clearTimeout(killer);
          resolve(false);
          return;
        }
        finish(false, { err });
      });
      child.on('exit', (code, signal) => finish(code === 0, { code, signal }));
    });
  }
}

/** sd_watchdog_enabled(3): WATCHDOG_USEC, and WATCHDOG_PID when set must be us. */
function watchdogInterval(env: NodeJS.ProcessEnv): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid) return undefined;
  return Math.max(1, Math.floor(usec / 2 / 1000));
}

import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import sinon from 'sinon';
import { afterEach, describe, expect, it } from 'vitest';
import { SdNotify, type SpawnLike } from '../../src/daemon/sd-notify.js';
import { silentLogger } from '../../src/log.js';
import { openNotifySocket, type NotifySocket } from './notify-socket.js';

let sock: NotifySocket | undefined;
let notify: SdNotify | undefined;
afterEach(async () => {
  notify?.stop();
  notify = undefined;
  await sock?.stop();
  sock = undefined;
});

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, ...extra });

describe('SdNotify through the real systemd-notify binary', () => {
  it('sends READY=1 with a status line, and STOPPING=1', async () => {
    sock = await openNotifySocket();
    notify = new SdNotify({ env: env({ NOTIFY_SOCKET: sock.path }), log: silentLogger() });
    expect(await notify.ready('serving')).toBe(true);
    expect(await notify.stopping()).toBe(true);
    await sock.waitFor((m) => m.includes('STOPPING=1'), 5_000);
    const real = sock.messages.filter((m) => m !== 'BARRIER=1');
    expect(real).toEqual(['READY=1|STATUS=serving', 'STOPPING=1']);
  });

  it('pings WATCHDOG=1 every WATCHDOG_USEC/2 only while healthy', async () => {
    sock = await openNotifySocket();
    let healthy = true;
    // 400 ms watchdog → a ping every 200 ms.
    notify = new SdNotify({ env: env({ NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '400000', WATCHDOG_PID: String(process.pid) }), log: silentLogger() });
    expect(notify.watchdogIntervalMs).toBe(200);
    notify.startWatchdog(() => healthy);
    const pings = () => sock!.messages.filter((m) => m === 'WATCHDOG=1').length;
    await sock.waitFor(() => pings() >= 3, 5_000);
    healthy = false;
    await new Promise((r) => setTimeout(r, 400)); // let an in-flight ping land
    const frozen = pings();
    await new Promise((r) => setTimeout(r, 700));
    expect(pings()).toBe(frozen);
    healthy = true;
    await sock.waitFor(() => pings() > frozen, 5_000);
    notify.stop();
  });

  it('reports a failure when nobody listens on NOTIFY_SOCKET', async () => {
    notify = new SdNotify({ env: env({ NOTIFY_SOCKET: '/nonexistent/notify.sock' }), log: silentLogger() });
    expect(await notify.ready()).toBe(false);
  });
});

describe('SdNotify decisions', () => {
  function recordingSpawn(calls: string[][]): SpawnLike {
    return (_cmd, args) => {
      calls.push(args);
      const child = new EventEmitter() as ChildProcess;
      setImmediate(() => child.emit('exit', 0, null));
      return child;
    };
  }

  it('does nothing when NOTIFY_SOCKET is unset', async () => {
    const calls: string[][] = [];
    notify = new SdNotify({ env: env({ WATCHDOG_USEC: '1000' }), log: silentLogger(), spawn: recordingSpawn(calls) });
    expect(await notify.ready()).toBe(false);
    notify.startWatchdog(() => true);
    await new Promise((r) => setTimeout(r, 30));
    expect(await notify.stopping()).toBe(false);
    expect(calls).toEqual([]);
  });

  it('keeps quiet when WATCHDOG_PID names another process', () => {
    notify = new SdNotify({ env: env({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }), log: silentLogger() });
    expect(notify.watchdogIntervalMs).toBeUndefined();
  });

  it('pings exactly on WATCHDOG_USEC/2 boundaries (fake timers)', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const calls: string[][] = [];
      notify = new SdNotify({ env: env({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000' }), log: silentLogger(), spawn: recordingSpawn(calls) });
      notify.startWatchdog(() => true);
      clock.tick(14_999);
      expect(calls).toEqual([]);
      clock.tick(1);
      expect(calls).toEqual([['WATCHDOG=1']]);
      await new Promise((r) => setImmediate(r)); // the child exits
      clock.tick(15_000);
      expect(calls.length).toBe(2);
      notify.stop();
      clock.tick(60_000);
      expect(calls.length).toBe(2);
    } finally {
      clock.restore();
    }
  });

  it('says so once when systemd-notify is missing', async () => {
    notify = new SdNotify({ env: env({ NOTIFY_SOCKET: '/x' }), log: silentLogger(), binary: 'no-such-systemd-notify' });
    expect(await notify.ready()).toBe(false);
  });
});

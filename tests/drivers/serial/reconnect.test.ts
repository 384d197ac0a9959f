/**
 * src/drivers/serial/reconnect.ts: the serial and SAM readers' one
 * reconnect-and-report step, on fake timers (the delays are Backoff's).
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Reconnect } from '../../../src/drivers/serial/reconnect.js';

function make(running = () => true) {
  const statuses: [boolean, string][] = [];
  let reopens = 0;
  const link = new Reconnect('test reader', { id: 'r1', path: '/dev/null' }, { log: pino({ level: 'silent' }), backoff: { initialMs: 100, maxMs: 400 } }, {
    running,
    reopen: () => reopens++,
    status: (connected, detail) => statuses.push([connected, detail]),
  });
  return { link, statuses, reopens: () => reopens };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Reconnect', () => {
  it('reports an outage once, reopens after each back-off delay, and starts over once opened', () => {
    vi.useFakeTimers();
    const { link, statuses, reopens } = make();
    link.lost('open failed: ENOENT');
    expect(statuses).toEqual([[false, 'open failed: ENOENT']]);
    vi.advanceTimersByTime(99);
    expect(reopens()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(reopens()).toBe(1);
    // Still gone: no second status, the next delay doubles (100 → 200 → 400 → 400).
    link.lost('open failed: ENOENT');
    vi.advanceTimersByTime(199);
    expect(reopens()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(reopens()).toBe(2);
    link.lost('open failed: ENOENT');
    vi.advanceTimersByTime(400);
    link.lost('open failed: ENOENT');
    vi.advanceTimersByTime(399);
    expect(reopens()).toBe(3);
    vi.advanceTimersByTime(1);
    expect(reopens()).toBe(4);
    expect(statuses).toHaveLength(1);

    link.opened();
    link.up('port open');
    expect(link.connected).toBe(true);
    link.lost('disconnected');
    expect(statuses.slice(1)).toEqual([[true, 'port open'], [false, 'disconnected']]);
    vi.advanceTimersByTime(100);
    expect(reopens()).toBe(5);
  });

  it('markDown reports once per outage and says whether it did; stopped reports only a reader that was up', () => {
    const { link, statuses } = make();
    expect(link.markDown('reader not answering')).toBe(true);
    expect(link.markDown('reader not answering')).toBe(false);
    link.stopped();
    expect(statuses).toEqual([[false, 'reader not answering']]);
    link.opened();
    link.up('SAM module ready');
    link.stopped();
    expect(statuses.slice(1)).toEqual([[true, 'SAM module ready'], [false, 'stopped']]);
    expect(link.connected).toBe(false);
  });

  it('a stopped owner is not reported down, and a cancelled or stopped retry never reopens', () => {
    vi.useFakeTimers();
    let running = true;
    const { link, statuses, reopens } = make(() => running);
    link.lost('port closed');
    link.cancel();
    vi.advanceTimersByTime(10_000);
    expect(reopens()).toBe(0);
    link.lost('port closed');
    running = false;
    vi.advanceTimersByTime(10_000);
    expect(reopens()).toBe(0);
    link.lost('port closed');
    vi.advanceTimersByTime(10_000);
    expect(reopens()).toBe(0);
    expect(statuses).toEqual([[false, 'port closed']]);
  });
});

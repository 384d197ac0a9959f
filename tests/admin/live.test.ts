/**
 * The live stream over a real socket: a tap at the sim reader reaches a
 * signed-in client as a server-sent event well under a second; alerts and
 * mode changes come on their own event names; no session, no stream.
 */
import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount, call, login, makeHarness, PASSWORDS, type Harness, type Session } from './harness.js';

interface Sse {
  res: IncomingMessage;
  next(name: string, pred?: (data: any) => boolean, timeoutMs?: number): Promise<{ data: any; atMs: number }>;
  close(): void;
}

function openSse(port: number, cookie?: string): Promise<Sse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/live', headers: cookie ? { cookie } : {} }, (res) => {
      const seen: Array<{ name: string; data: any; atMs: number }> = [];
      const waiters: Array<() => void> = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (name && data) seen.push({ name, data: JSON.parse(data), atMs: performance.now() });
        }
        for (const w of waiters.splice(0)) w();
      });
      resolve({
        res,
        next: (name, pred = () => true, timeoutMs = 2_000) =>
          new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(`no ${name} event`)), timeoutMs);
            const check = () => {
              const i = seen.findIndex((s) => s.name === name && pred(s.data));
              if (i >= 0) {
                clearTimeout(timer);
                ok(seen.splice(i, 1)[0]!);
              } else waiters.push(check);
            };
            check();
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('live stream', () => {
  let h: Harness;
  let port: number;
  let guard: Session;
  let admin: Session;

  beforeAll(async () => {
    h = await makeHarness();
    await addAccount(h, 'guard1', 'guard', PASSWORDS.guard);
    await addAccount(h, 'chief', 'admin', PASSWORDS.admin);
    guard = await login(h, 'guard1', PASSWORDS.guard);
    admin = await login(h, 'chief', PASSWORDS.admin);
    h.store.whitelist.upsert(
      {
        people: [
          { id: 'p-staff', kind: 'staff', name: 'Zhang San', photo: Buffer.from([0xff, 0xd8, 0xff, 0xd9]).toString('base64') },
          { id: 'p-black', kind: 'contractor', name: 'Banned Qian' },
        ],
        credentials: [
          { key: 'card:04A1B2C3', personId: 'p-staff', status: 'active' },
          { key: 'card:DEADBEEF', personId: 'p-black', status: 'blacklisted' },
        ],
      },
      'central',
    );
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    port = (h.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => h.close());

  it('refuses a stream without a session', async () => {
    const sse = await openSse(port);
    expect(sse.res.statusCode).toBe(401);
    sse.close();
  });

  it('a tap appears on the stream in well under a second, with name, reason, masked credential and photo', async () => {
    const sse = await openSse(port, guard.cookie);
    try {
      expect(sse.res.statusCode).toBe(200);
      expect(sse.res.headers['content-type']).toContain('text/event-stream');
      const t0 = performance.now();
      h.type('entry', '04A1B2C3');
      const { data, atMs } = await sse.next('journal', (d) => d.type === 'access');
      expect(atMs - t0).toBeLessThan(1_000);
      expect(data).toMatchObject({
        type: 'access', granted: true, reason: 'GRANTED', direction: 'in', credential: 'card:****B2C3',
        personId: 'p-staff', name: 'Zhang San', photo: '/api/photos/p-staff', alert: false,
      });
    } finally {
      sse.close();
    }
  });

  it('alerts and mode changes arrive as their own events', async () => {
    const sse = await openSse(port, guard.cookie);
    try {
      h.type('entry', 'DEADBEEF');
      const hit = await sse.next('alert', (d) => d.reason === 'BLACKLISTED');
      expect(hit.data).toMatchObject({ alert: true, name: 'Banned Qian', credential: 'card:****BEEF' });
      expect(hit.data.photo).toBeUndefined();
      await call(h, admin, 'POST', '/api/mode', { mode: 'lockdown', reason: 'drill', confirm: true });
      expect((await sse.next('mode')).data).toEqual({ mode: 'lockdown' });
      await call(h, admin, 'POST', '/api/mode', { mode: 'normal', reason: 'end', confirm: true });
    } finally {
      sse.close();
    }
  });

  it('the page judges alerts as the gate does (controller/alerts.ts): a blacklist hit in emergency mode is one, a tamper back to normal is not', async () => {
    const sse = await openSse(port, guard.cookie);
    try {
      await call(h, admin, 'POST', '/api/mode', { mode: 'emergency', reason: 'fire drill', confirm: true });
      h.type('entry', 'DEADBEEF');
      const hit = await sse.next('alert', (d) => d.type === 'access' && d.reason === 'EMERGENCY_OPEN');
      expect(hit.data).toMatchObject({ alert: true, granted: true, personId: 'p-black', name: 'Banned Qian' });
      const journaled = await sse.next('journal', (d) => d.seq === hit.data.seq);
      expect(journaled.data.alert).toBe(true);
      await call(h, admin, 'POST', '/api/mode', { mode: 'normal', reason: 'drill over', confirm: true });

      const opened = h.gate.record({ type: 'tamper', active: true });
      const closed = h.gate.record({ type: 'tamper', active: false });
      expect((await sse.next('journal', (d) => d.seq === opened.seq)).data.alert).toBe(true);
      expect((await sse.next('journal', (d) => d.seq === closed.seq)).data.alert).toBe(false);
      const board = (await call(h, guard, 'GET', '/api/alerts')).json().alerts.map((a: { seq: number }) => a.seq);
      expect(board).toContain(hit.data.seq);
      expect(board).toContain(opened.seq); // closing the box does not clear it: a guard acknowledges
      expect(board).not.toContain(closed.seq);
    } finally {
      sse.close();
    }
  });

  it('closing the server ends open streams instead of hanging', async () => {
    const sse = await openSse(port, guard.cookie);
    const ended = new Promise((r) => sse.res.on('end', r));
    const t0 = Date.now();
    await h.app.close();
    await ended;
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

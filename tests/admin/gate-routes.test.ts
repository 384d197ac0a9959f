/** Status, manual open, mode switch and alerts through inject, over the real gate and sim GPIO. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdminServer } from '../../src/admin/server.js';
import { addAccount, call, login, makeHarness, PASSWORDS, until, type Harness, type Session } from './harness.js';

describe('gate status and control', () => {
  let h: Harness;
  let admin: Session;
  let guard: Session;

  beforeAll(async () => {
    h = await makeHarness();
    await addAccount(h, 'chief', 'admin', PASSWORDS.admin);
    await addAccount(h, 'guard1', 'guard', PASSWORDS.guard);
    admin = await login(h, 'chief', PASSWORDS.admin);
    guard = await login(h, 'guard1', PASSWORDS.guard);
    h.store.whitelist.upsert(
      {
        people: [{ id: 'p-black', kind: 'contractor', name: 'Banned Qian' }],
        credentials: [{ key: 'card:DEADBEEF', personId: 'p-black', status: 'blacklisted' }],
      },
      'central',
    );
  });
  afterAll(async () => h.close());

  it('status: mode, readers, MQTT link, outbox backlog, whitelist version, clock sync, uptime', async () => {
    const res = await call(h, guard, 'GET', '/api/status');
    expect(res.statusCode).toBe(200);
    const s = res.json();
    expect(s).toMatchObject({
      gate: 'g1',
      site: 's1',
      mode: 'normal',
      whitelistVersion: 0,
      mqtt: { connected: false },
      outbox: { pending: 0 },
      clockSynced: true,
    });
    expect(s.readers).toEqual([
      { id: 'entry', type: 'sim', direction: 'in', connected: true },
      { id: 'exit', type: 'sim', direction: 'out', connected: true },
    ]);
    expect(s.uptimeS).toBeGreaterThanOrEqual(0);
    expect(s.passKey).toContain('BEGIN PUBLIC KEY');
  });

  it('manual open: reason required, then a manual_open event with the operator and the relay pulses', async () => {
    const before = h.store.journal.lastSeq();
    const noReason = await call(h, guard, 'POST', '/api/open', { direction: 'in', reason: '   ' });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().error).toMatchObject({ code: 'BAD_INPUT', fields: ['reason'] });
    const badDir = await call(h, guard, 'POST', '/api/open', { direction: 'up', reason: 'delivery' });
    expect(badDir.statusCode).toBe(400);
    expect(badDir.json().error.fields).toEqual(['direction']);
    const tooLong = await call(h, guard, 'POST', '/api/open', { direction: 'in', reason: 'x'.repeat(201) });
    expect(tooLong.statusCode).toBe(400);
    expect(h.store.journal.lastSeq()).toBe(before);
    expect(h.gpio.outputs.entry!.get()).toBe(false);

    const ok = await call(h, guard, 'POST', '/api/open', { direction: 'in', reason: 'delivery van' });
    expect(ok.statusCode).toBe(200);
    expect(h.gpio.outputs.entry!.get()).toBe(true);
    const ev = h.store.journal.get(ok.json().seq)!;
    expect(ev).toMatchObject({ type: 'manual_open', direction: 'in', reason: 'delivery van', operator: 'guard1', source: 'admin' });
  });

  it('mode switch: admin only, confirmation required, journaled with the operator', async () => {
    const before = h.store.journal.lastSeq();
    const asGuard = await call(h, guard, 'POST', '/api/mode', { mode: 'lockdown', reason: 'drill', confirm: true });
    expect(asGuard.statusCode).toBe(403);
    const unconfirmed = await call(h, admin, 'POST', '/api/mode', { mode: 'lockdown', reason: 'drill' });
    expect(unconfirmed.statusCode).toBe(400);
    expect(unconfirmed.json().error.code).toBe('CONFIRMATION_REQUIRED');
    const badMode = await call(h, admin, 'POST', '/api/mode', { mode: 'party', reason: 'drill', confirm: true });
    expect(badMode.statusCode).toBe(400);
    expect(badMode.json().error.fields).toEqual(['mode']);
    expect(h.store.journal.lastSeq()).toBe(before);
    expect(h.gate.status().mode).toBe('normal');

    const ok = await call(h, admin, 'POST', '/api/mode', { mode: 'lockdown', reason: 'drill', confirm: true });
    expect(ok.statusCode).toBe(200);
    expect(h.gate.status().mode).toBe('lockdown');
    expect(h.store.journal.get(ok.json().seq)).toMatchObject({ type: 'mode_changed', from: 'normal', to: 'lockdown', operator: 'chief' });
    expect((await call(h, guard, 'GET', '/api/status')).json().mode).toBe('lockdown');
    await call(h, admin, 'POST', '/api/mode', { mode: 'normal', reason: 'drill over', confirm: true });
  });

  it('alerts stay until acknowledged, also across a server restart', async () => {
    await call(h, guard, 'POST', '/api/alerts/ack', { all: true });
    h.type('entry', 'DEADBEEF');
    const hit = await until(() => h.events().find((e) => e.type === 'access' && e.reason === 'BLACKLISTED'));
    const seqs = async (s: Session, app = h.app) =>
      (await app.inject({ method: 'GET', url: '/api/alerts', headers: { cookie: s.cookie } })).json().alerts.map((a: { seq: number }) => a.seq);
    await until(async () => (await seqs(guard)).includes(hit.seq));
    const list = (await call(h, guard, 'GET', '/api/alerts')).json().alerts;
    expect(list.find((a: { seq: number }) => a.seq === hit.seq)).toMatchObject({
      type: 'access',
      reason: 'BLACKLISTED',
      alert: true,
      name: 'Banned Qian',
      credential: 'card:****BEEF',
    });

    // A second server over the same store (a restart) still shows it.
    const again = await buildAdminServer(h.deps);
    try {
      expect(await seqs(guard, again)).toContain(hit.seq);
    } finally {
      await again.close();
    }

    const bad = await call(h, guard, 'POST', '/api/alerts/ack', { seqs: ['x'] });
    expect(bad.statusCode).toBe(400);
    const ack = await call(h, guard, 'POST', '/api/alerts/ack', { seqs: [hit.seq] });
    expect(ack.json()).toEqual({ acknowledged: [hit.seq] });
    expect(await seqs(guard)).not.toContain(hit.seq);
    expect(h.lastOf('admin_action')).toMatchObject({ action: 'alerts_acknowledged', operator: 'guard1', count: 1, first: hit.seq, last: hit.seq });
    // Nothing left to acknowledge: nothing journalled.
    const n = h.events().length;
    expect((await call(h, guard, 'POST', '/api/alerts/ack', { seqs: [hit.seq] })).json()).toEqual({ acknowledged: [] });
    expect(h.events().length).toBe(n);
  });

  it('the live backlog lists recent decisions with reasons and masked credentials', async () => {
    const res = await call(h, guard, 'GET', '/api/live/recent');
    expect(res.statusCode).toBe(200);
    const items = res.json().events;
    expect(items[0].seq).toBeGreaterThan(items[items.length - 1].seq);
    expect(items.find((i: { reason?: string }) => i.reason === 'BLACKLISTED')).toMatchObject({ credential: 'card:****BEEF', direction: 'in' });
    expect(items.find((i: { type: string }) => i.type === 'manual_open')).toMatchObject({ note: 'delivery van', operator: 'guard1' });
  });
});

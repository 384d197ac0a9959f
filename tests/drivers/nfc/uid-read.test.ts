import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGetDataResponse, readUid } from '../../../src/drivers/nfc/uid-read.js';
import { pcscdSocketPath, probePcscd } from '../../../src/drivers/nfc/pcscd-probe.js';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('GET DATA response', () => {
  it('takes the UID before SW 90 00', () => {
    expect(parseGetDataResponse(hex('04a1b2c39000'))).toEqual({ ok: true, uid: '04A1B2C3' });
    expect(parseGetDataResponse(hex('04A1B2C3D4E5F69000'))).toEqual({ ok: true, uid: '04A1B2C3D4E5F6' });
  });
  it('rejects other status words, short answers and odd UID sizes', () => {
    expect(parseGetDataResponse(hex('6a81'))).toEqual({ ok: false, reason: 'GET DATA failed: SW 6A81' });
    expect(parseGetDataResponse(hex('04a1b2c36300'))).toEqual({ ok: false, reason: 'GET DATA failed: SW 6300' });
    expect(parseGetDataResponse(hex('90'))).toEqual({ ok: false, reason: 'GET DATA: response too short' });
    expect(parseGetDataResponse(hex('9000'))).toEqual({ ok: false, reason: 'GET DATA: 0-byte UID, expected 4..20' });
  });
  it('sends FF CA 00 00 00 and maps a transmit error or a timeout to a reason', async () => {
    const sent: string[] = [];
    expect(await readUid(async (apdu) => (sent.push(apdu.toString('hex')), hex('0102030405069000')), 100)).toEqual({
      ok: true,
      uid: '010203040506',
    });
    expect(sent).toEqual(['ffca000000']);
    expect(await readUid(() => Promise.reject(new Error('card removed')), 100)).toEqual({
      ok: false,
      reason: 'GET DATA: card removed',
    });
    expect(await readUid(() => new Promise(() => {}), 30)).toEqual({ ok: false, reason: 'GET DATA: no answer in time' });
  });
});

describe('pcscd probe', () => {
  it('answers true only when something listens on the socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gate-probe-'));
    const path = join(dir, 'pcscd.comm');
    expect(await probePcscd(path, 200)).toBe(false);
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(path, r));
    expect(await probePcscd(path, 200)).toBe(true);
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  it('uses PCSCLITE_CSOCK_NAME when set', () => {
    expect(pcscdSocketPath({ PCSCLITE_CSOCK_NAME: '/tmp/x.comm' })).toBe('/tmp/x.comm');
    expect(pcscdSocketPath({})).toBe('/run/pcscd/pcscd.comm');
  });
});

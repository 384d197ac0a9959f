/**
 * `npm start`'s simulation profile (no config file): an ID number typed on
 * the terminal is placed as a card on the simulated SAM reader `idcard` (the
 * binary protocol on a socat pty, the real driver) and the demo visitor's ID
 * card is GRANTED. Bounded start and stop.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabaseReadOnly } from '../../src/store/db.js';
import { buildDist, freePort, ROOT } from './daemon.js';

const DEMO_ID = '11010519491231002X';

describe('npm start: a tap through the simulated SAM reader', () => {
  let dir: string;
  let child: ReturnType<typeof spawn>;
  let out = '';
  let exited: Promise<number | null>;

  const until = async (what: string, cond: () => boolean, ms = 20_000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} while waiting for ${what}:\n${out}`);
      if (Date.now() > end) throw new Error(`${what} not seen in ${ms} ms:\n${out}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  beforeAll(async () => {
    buildDist();
    dir = mkdtempSync(join(tmpdir(), 'gc-sim-sam-'));
    const port = await freePort();
    child = spawn(process.execPath, ['dist/src/main.js', '--data-dir', dir, '--admin-listen', `127.0.0.1:${port}`], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NOTIFY_SOCKET: '' },
    });
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
    exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }, 300_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  }, 30_000);

  it('the demo visitor\'s ID number typed → card on the SAM reader → GRANTED, journaled from reader idcard', async () => {
    await until('SAM reader ready', () => out.includes('"reader":"idcard","connected":true,"detail":"SAM module ready"'));
    expect(out).toContain('An ID number goes to the simulated SAM ID card reader');
    child.stdin!.write(`${DEMO_ID}\n`);
    await until('GRANTED', () => /GRANTED +GRANTED +in +1101\*{10}002X person=p-vis-1/.test(out));
    const db = openDatabaseReadOnly(join(dir, 'gate.db'));
    try {
      const access = (db.prepare("SELECT body FROM journal WHERE body LIKE '%\"type\":\"access\"%'").all() as Array<{ body: string }>).map((r) => JSON.parse(r.body));
      expect(access).toHaveLength(1);
      expect(access[0]).toMatchObject({ reader: 'idcard', granted: true, reason: 'GRANTED', credential: '1101**********002X', personId: 'p-vis-1' });
    } finally {
      db.close();
    }
    child.stdin!.write('!desk\n');
    await until('desk card', () => out.includes('desk reader: an ID card is on it'));
    expect(readFileSync(join(dir, 'gate.log'), 'utf8')).not.toContain(DEMO_ID);
  }, 60_000);

  it('garbage typed at the terminal reader is said on the terminal, not only in the log', async () => {
    await until('SAM reader ready', () => out.includes('SAM module ready'));
    child.stdin!.write('zz!garbage\n');
    await until('the refusal on the terminal', () => out.includes('(reader terminal rejected the input: unrecognized input'));
  }, 30_000);
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/cli-error.js';
import { main } from '../../src/cli/gatectl.js';
import { openStore } from '../../src/store/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function gateDb(events = 10): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatectl-verify-'));
  dirs.push(dir);
  const path = join(dir, 'gate.db');
  const store = openStore({ path, synchronous: 'normal', gateId: 'g1' });
  for (let i = 1; i <= events; i++) {
    store.access.record({
      event: { type: 'access', reader: 'entry', direction: 'in', credential: 'card:****0001', personId: 'p1', granted: true, reason: 'GRANTED' },
      nowMs: Date.UTC(2026, 10, 23, 2, 0, i),
    });
  }
  store.close();
  return path;
}

function sql(path: string, stmt: string): void {
  const store = openStore({ path, synchronous: 'normal', gateId: 'g1' });
  store.db.prepare(stmt).run();
  store.close();
}

async function gatectl(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`) };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('gatectl journal verify', () => {
  it('exit 0 and the verified range when the chain holds', async () => {
    const db = gateDb(10);
    expect(await gatectl('journal', 'verify', '--db', db)).toEqual({ code: 0, out: 'ok: 10 events verified (seq 1..10)\n', err: '' });
  });

  it('an event edited with SQL: exit 1 naming its seq', async () => {
    const db = gateDb(10);
    sql(db, `UPDATE journal SET body = replace(body, '"granted":true', '"granted":false') WHERE seq = 7`);
    const r = await gatectl('journal', 'verify', '--db', db);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^broken at seq 7: hash mismatch/);
  });

  it('a deleted event: exit 1 naming the gap', async () => {
    const db = gateDb(10);
    sql(db, 'DELETE FROM journal WHERE seq = 4');
    const r = await gatectl('journal', 'verify', '--db', db);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^broken at seq 4: seq gap: event 4 missing/);
  });

  it('after a retention purge it verifies from the checkpoint', async () => {
    const db = gateDb(10);
    const store = openStore({ path: db, synchronous: 'normal', gateId: 'g1' });
    store.journal.purgeUpTo(6);
    store.close();
    expect(await gatectl('journal', 'verify', '--db', db)).toMatchObject({ code: 0, out: 'ok: 4 events verified (seq 7..10)\n' });
  });

  it('exit 2 with a clear message for a missing file, a non-database, no --db', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatectl-verify-'));
    dirs.push(dir);
    const missing = await gatectl('journal', 'verify', '--db', join(dir, 'nope.db'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nope\.db: no such database file/);
    expect(existsSync(join(dir, 'nope.db'))).toBe(false);

    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'not sqlite '.repeat(100));
    const bad = await gatectl('journal', 'verify', '--db', junk);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/cannot read database/);

    const noArg = await gatectl('journal', 'verify');
    expect(noArg.code).toBe(2);
    expect(noArg.err).toMatch(/--db is required/);
  });

  it('a SQLite file that is not a gate database is exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatectl-verify-'));
    dirs.push(dir);
    const other = join(dir, 'other.db');
    const Database = (await import('../../src/store/sqlite-driver.js')).default;
    const d = new Database(other);
    d.exec('CREATE TABLE t (x)');
    d.close();
    const r = await gatectl('journal', 'verify', '--db', other);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not a gate database/);
  });
});

describe('gatectl dispatcher', () => {
  it('--help lists the commands; <group> <cmd> --help prints that usage', async () => {
    const all = await gatectl('--help');
    expect(all.code).toBe(0);
    expect(all.out).toMatch(/journal verify\s+verify the journal hash chain/);
    const one = await gatectl('journal', 'verify', '--help');
    expect(one.code).toBe(0);
    expect(one.out).toMatch(/^Usage: gatectl journal verify --db PATH/);
    const group = await gatectl('journal', '--help');
    expect(group).toMatchObject({ code: 0, out: expect.stringMatching(/journal verify/) });
  });

  it('an unknown command or option is exit 2', async () => {
    expect((await gatectl('frobnicate')).code).toBe(2);
    const r = await gatectl('journal', 'verify', '--bd', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--bd/);
  });
});

const compiled = resolve('dist/src/cli/gatectl.js');
describe.skipIf(!existsSync(compiled))('the compiled gatectl binary', () => {
  it('runs as a program with the exit statuses above', () => {
    const db = gateDb(3);
    const ok = spawnSync(process.execPath, [compiled, 'journal', 'verify', '--db', db], { encoding: 'utf8', timeout: 20_000 });
    expect({ status: ok.status, stdout: ok.stdout }).toEqual({ status: 0, stdout: 'ok: 3 events verified (seq 1..3)\n' });
    sql(db, "UPDATE journal SET hash = 'x' WHERE seq = 2");
    const broken = spawnSync(process.execPath, [compiled, 'journal', 'verify', '--db', db], { encoding: 'utf8', timeout: 20_000 });
    expect(broken.status).toBe(1);
    expect(broken.stdout).toMatch(/^broken at seq 2: /);
  });
});

describe('gatectl journal verify on the collector store', () => {
  it('verifies each gate chain and names the first broken seq of an edited one', async () => {
    const { CentralStore } = await import('../../src/store/central/central.js');
    const dir = mkdtempSync(join(tmpdir(), 'gatectl-verify-central-'));
    dirs.push(dir);
    const path = join(dir, 'central.db');
    const central = new CentralStore(path);
    for (const gate of ['g1', 'g2']) {
      const s = openStore({ path: ':memory:', synchronous: 'normal', gateId: gate });
      const evs = Array.from({ length: 5 }, (_, i) => s.journal.append({ type: 'passage', direction: 'in', reader: 'entry' }, Date.UTC(2026, 10, 23, 2, 0, i)));
      s.close();
      central.ingest('s1', gate, evs, Date.now());
    }
    central.close();
    expect(await gatectl('journal', 'verify', '--db', path)).toEqual({ code: 0, out: 'g1: ok: 5 events verified\ng2: ok: 5 events verified\n', err: '' });

    const Database = (await import('../../src/store/sqlite-driver.js')).default;
    const raw = new Database(path);
    raw.prepare(`UPDATE central_events SET body = replace(body, '"in"', '"out"') WHERE gate = 'g2' AND seq = 3`).run();
    raw.close();
    const r = await gatectl('journal', 'verify', '--db', path);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^g1: ok: 5 events verified\ng2: broken at seq 3: /);
  });
});

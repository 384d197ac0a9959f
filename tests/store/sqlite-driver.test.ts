import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SQLITE_DRIVER, sqliteModulePath } from '../../src/store/sqlite-driver.js';

const napi = Number(process.versions.napi ?? 0);

/** The package.json of the installed package whose entry file is `entry`. */
function packageOf(entry: string): { name: string; version: string } {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
    } catch {
      // not this level
    }
  }
  throw new Error(`no package.json above ${entry}`);
}

describe('sqlite driver', () => {
  it('is better-sqlite3 13 on Node-API 10+ runtimes (Node 22.14+, 24), 12 before', () => {
    const pkg = packageOf(sqliteModulePath);
    expect(pkg.name).toBe('better-sqlite3');
    if (napi >= 10) {
      expect(SQLITE_DRIVER).toBe('better-sqlite3-napi');
      expect(pkg.version).toMatch(/^13\./);
    } else {
      expect(SQLITE_DRIVER).toBe('better-sqlite3');
      expect(pkg.version).toMatch(/^12\./);
    }
  });

  // better-sqlite3 12.x on Node >= 24.19 aborts the process here (SIGABRT,
  // "Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook from
  // Statement::~Statement) once a GC outside an entered context collects a
  // dropped statement. Statements prepared and dropped between timer ticks,
  // as the gate does for one-off queries, for two seconds.
  it('survives statements collected by the garbage collector between ticks, in a process of its own', () => {
    const driver = pathToFileURL(join(import.meta.dirname, '../../dist/src/store/sqlite-driver.js')).href;
    const script = `
      const { default: Database } = await import(${JSON.stringify(driver)});
      const db = new Database(':memory:');
      let n = 0;
      for (const end = Date.now() + 2000; Date.now() < end; ) {
        for (let i = 0; i < 500; i++) n += db.prepare('SELECT ? AS x').get(i).x >= 0 ? 1 : 0;
        const junk = [];
        for (let i = 0; i < 2000; i++) junk.push({ i, s: 'x'.repeat(50) });
        await new Promise((r) => setTimeout(r, 5));
      }
      db.close();
      console.log('prepared ' + n);
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).not.toMatch(/Assertion failed/);
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
    expect(r.stdout).toMatch(/^prepared [1-9]\d{3,}/);
  });
});

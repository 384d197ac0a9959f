/**
 * `npm run test:unit` (vitest.unit.config.ts) must leave out every test that
 * starts a daemon (mosquitto, pcscd, a socat pty, the built gate daemon, a
 * browser), and only those: a test file is judged by what it and the test
 * helpers it imports call.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { needsDaemon } from '../../vitest.unit.config.js';

const ROOT = join(import.meta.dirname, '../..');
const TESTS = join(ROOT, 'tests');
/** Calls that start a daemon (tests/helpers, bench/lib, tests/e2e, tests/chaos) or boot the GPIO rig's kernel. */
const STARTS_DAEMON = /\b(startMosquitto|startPcscd|startPtyPair|startDaemon|runCrashCampaign|runInRig|startPostgres|chaosWorld|GateProcess|chromium\.launch)\b/;

function testFiles(dir = TESTS): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    // This folder names the daemon starters in its own text.
    if (e.isDirectory()) out.push(...(e.name === 'architecture' ? [] : testFiles(p)));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

/** The file and every tests/ module it imports, transitively. */
function closure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const target = normalize(join(dirname(file), fileName.replace(/\.js$/, '.ts')));
    if (target.startsWith(TESTS) && !target.endsWith('.test.ts')) closure(target, seen);
  }
  return seen;
}

const startsDaemon = (file: string) => [...closure(file)].some((f) => STARTS_DAEMON.test(readFileSync(f, 'utf8')));

const excluded = (rel: string) =>
  needsDaemon.some((g) => (g.endsWith('/**') ? rel.startsWith(g.slice(0, -2)) : rel === g));

describe('npm run test:unit', () => {
  it('leaves out exactly the tests that start a daemon', () => {
    const files = testFiles().map((f) => ({ rel: relative(ROOT, f).split('\\').join('/'), daemon: startsDaemon(f) }));
    expect(files.filter((f) => f.daemon && !excluded(f.rel)).map((f) => f.rel)).toEqual([]);
    expect(files.filter((f) => !f.daemon && excluded(f.rel)).map((f) => f.rel)).toEqual([]);
    expect(files.filter((f) => !f.daemon).length).toBeGreaterThan(40);
  });
});

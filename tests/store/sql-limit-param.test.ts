/**
 * Under better-sqlite3 13 (Node 22.14+/24, the Pi's runtimes) a statement
 * with a bound parameter in `LIMIT ?` is prepared again by SQLite at every
 * run, however often it is reused (sqlite-driver.ts). Every LIMIT in the
 * gate's SQL therefore takes its parameter as `+?`. This walks the sources
 * so a new `LIMIT ?` fails here rather than on a Pi's hot path.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** file:line of each `LIMIT ?` outside comments. */
function bareLimitParams(files: Array<{ path: string; text: string }>): string[] {
  const found: string[] = [];
  for (const { path, text } of files) {
    text.split('\n').forEach((line, i) => {
      const code = line.trimStart();
      if (code.startsWith('*') || code.startsWith('/*') || code.startsWith('//')) return;
      if (/\bLIMIT\s+\?/i.test(code.replace(/\/\/.*$/, ''))) found.push(`${path}:${i + 1}`);
    });
  }
  return found;
}

describe('SQL parameters in LIMIT', () => {
  it('finds a bare LIMIT ? and passes LIMIT +? and comments', () => {
    expect(
      bareLimitParams([
        { path: 'a.ts', text: "db.prepare('SELECT 1 FROM t ORDER BY x LIMIT ?');\n" },
        { path: 'b.ts', text: "db.prepare('SELECT 1 FROM t LIMIT +?');\n * `LIMIT ?` in a comment\n// LIMIT ? too\n" },
        { path: 'c.ts', text: 'const q = `SELECT 1\n  FROM t\n  limit  ?`;\n' },
      ]),
    ).toEqual(['a.ts:1', 'c.ts:3']);
  });

  it('no source file binds a bare LIMIT ?', () => {
    const files = sources(SRC).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
    expect(files.length).toBeGreaterThan(20);
    expect(bareLimitParams(files)).toEqual([]);
  });
});

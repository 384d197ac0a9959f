/**
 * DESIGN.md's layer rule, checked on every import under src/ (static,
 * re-export and literal dynamic imports): drivers/ and store/ import no other
 * layer; controller/ imports the driver interfaces (drivers/types.ts) and
 * store/; sync/ and admin/ import controller/ and store/, never each other;
 * cli/ imports store/ and sync/protocol/; only the composition root (main.ts
 * and its helpers) wires concrete drivers. Shared modules (src/types.ts,
 * credentials/, config, log, worker plumbing) may be imported by any layer
 * and import no layer. And no code outside src/store touches the raw
 * database handle (`store.db`, better-sqlite3).
 *
 * Known violations would be listed below, each with the issue point that
 * removes it: the test fails on any other, and on a listed one that is gone
 * (so the lists only shrink). Both are empty today.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { importsOf, layerOf, MAY_IMPORT, rel, sourceFiles } from './layers.js';

/** "from → to" imports that break the rule today. */
const KNOWN_LAYER_VIOLATIONS: Record<string, string> = {};

/** Files outside src/store that use the raw database handle, and how many times. */
const KNOWN_RAW_DB_USERS: Record<string, number> = {};

const files = sourceFiles();

describe('src/ layers (DESIGN.md "Layers")', () => {
  it('every file under src/ belongs to a layer', () => {
    expect(files.length).toBeGreaterThan(100);
    for (const f of files) expect(() => layerOf(f)).not.toThrow();
  });

  it('no file imports from a layer its own may not import, beyond the known list', () => {
    const found: Record<string, string> = {};
    for (const f of files) {
      const from = layerOf(f);
      for (const target of importsOf(f)) {
        const to = layerOf(target);
        if (!MAY_IMPORT[from].includes(to)) found[`${rel(f)} → ${rel(target)}`] = `${from} may not import ${to}`;
      }
    }
    expect(Object.keys(found).filter((k) => !(k in KNOWN_LAYER_VIOLATIONS)).map((k) => `${k}: ${found[k]}`)).toEqual([]);
    // A fixed violation leaves the list too.
    expect(Object.keys(KNOWN_LAYER_VIOLATIONS).filter((k) => !(k in found))).toEqual([]);
  });

  it('no code outside src/store uses the raw database handle, beyond the known list', () => {
    const found: Record<string, number> = {};
    for (const f of files) {
      if (rel(f).startsWith('src/store/')) continue;
      const n = rawDbUses(f);
      if (n > 0) found[rel(f)] = n;
    }
    expect(found).toEqual(KNOWN_RAW_DB_USERS);
  });
});

describe('the checks themselves', () => {
  it('see a forbidden import and a raw handle', () => {
    const drivers = files.find((f) => rel(f) === 'src/drivers/readers/index.ts')!;
    expect(MAY_IMPORT[layerOf(drivers)].includes('controller')).toBe(false);
    expect(MAY_IMPORT.admin.includes('sync')).toBe(false);
    expect(MAY_IMPORT.sync.includes('admin')).toBe(false);
    expect(MAY_IMPORT.cli.includes('controller')).toBe(false);
    expect(MAY_IMPORT.controller.includes('drivers')).toBe(false);
    expect(countRawDb('const s = deps.store.db.transaction(() => 1);\nimport type D from "better-sqlite3";', 'x.ts')).toBe(2);
    expect(countRawDb('const p = { path: "gate.db" }; const t = store.journal;', 'x.ts')).toBe(0);
  });
});

/** `x.db` property reads and better-sqlite3 imports (a handle's type is a handle too). */
function rawDbUses(file: string): number {
  return countRawDb(readFileSync(file, 'utf8'), file);
}

function countRawDb(text: string, name: string): number {
  const sf = ts.createSourceFile(name, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  let n = 0;
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && node.name.text === 'db') n++;
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && /^better-sqlite3/.test(node.moduleSpecifier.text)) n++;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return n;
}

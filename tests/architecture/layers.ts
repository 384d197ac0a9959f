/**
 * DESIGN.md's layers, as data: which folder of src/ a file belongs to, and
 * which layers each may import. tests/architecture/imports.test.ts walks
 * every import under src/ against it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

export const SRC = join(import.meta.dirname, '../../src');

export type Layer = 'shared' | 'drivers' | 'drivers-interface' | 'store' | 'controller' | 'sync' | 'protocol' | 'admin' | 'cli' | 'root';

/**
 * The composition root (DESIGN: main.ts wires the concrete drivers to the rest):
 * src/main.ts, which stays where package.json's `bin` and the systemd unit
 * start it, and its helpers in src/daemon/.
 */
const ROOT_FILES = new Set(['main.ts']);
const ROOT_FOLDER = 'daemon/';
/** Modules any layer may import: shared types, config schema, logger factory, the CSV writer, worker plumbing, socket options, credential formats. */
const SHARED_FILES = new Set([
  'types.ts', 'config.ts', 'log.ts', 'csv.ts', 'backoff.ts', 'worker-priority.ts', 'worker-file.ts',
  // MQTT socket options (noNagle) for the gate's link, gatectl and the benches.
  'net.ts',
  // The protocol's size limits: constants that import nothing, which config's default, gatectl and the link share.
  'sync/protocol/limits.ts',
]);

export function layerOf(file: string): Layer {
  const rel = relative(SRC, file).split('\\').join('/');
  if (SHARED_FILES.has(rel) || rel.startsWith('credentials/')) return 'shared';
  if (ROOT_FILES.has(rel) || rel.startsWith(ROOT_FOLDER)) return 'root';
  if (rel === 'drivers/types.ts') return 'drivers-interface';
  if (rel.startsWith('sync/protocol/')) return 'protocol';
  const top = rel.split('/')[0]!;
  if (['drivers', 'store', 'controller', 'sync', 'admin', 'cli'].includes(top)) return top as Layer;
  throw new Error(`src/${rel}: no layer; place it in one (tests/architecture/layers.ts)`);
}

/** DESIGN.md: "Imports run one way". */
export const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  shared: ['shared'],
  'drivers-interface': ['shared', 'drivers-interface'],
  drivers: ['shared', 'drivers-interface', 'drivers'],
  store: ['shared', 'store'],
  controller: ['shared', 'drivers-interface', 'store', 'controller'],
  // sync/protocol/ is part of sync/ (which may import store/), and the part cli/ may import.
  protocol: ['shared', 'store', 'protocol'],
  sync: ['shared', 'controller', 'store', 'protocol', 'sync'],
  // The registration desk's ID card reader reaches admin through its interface (DeskCardReader), wired by the root.
  admin: ['shared', 'drivers-interface', 'controller', 'store', 'admin'],
  cli: ['shared', 'store', 'protocol', 'cli'],
  root: ['shared', 'drivers-interface', 'drivers', 'store', 'controller', 'protocol', 'sync', 'admin', 'cli', 'root'],
};

export function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

/** Every module a file imports (static, re-export, dynamic import with a literal), resolved to src/ files; packages are left out. */
export function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => normalize(join(dirname(file), spec.replace(/\.js$/, '.ts'))));
}

export const rel = (file: string) => `src/${relative(SRC, file).split('\\').join('/')}`;

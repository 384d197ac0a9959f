/**
 * Where a worker thread's module is. Workers are typed modules of their own
 * (a `*-worker.ts` file), compiled to dist/ like the rest. Under vitest the
 * caller is the .ts source and there is no .js beside it: the worker then
 * runs from the build (`npm test` builds first), since a worker thread cannot
 * load TypeScript on Node 20.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** This module sits at `<root>/src/` (sources) or `<root>/dist/src/` (build). */
const ROOT = new URL('../', import.meta.url);

/** `file` (say './checkpointer-worker.js') relative to the caller's `import.meta.url`. */
export function workerFile(callerUrl: string, file: string): URL {
  const beside = new URL(file, callerUrl);
  if (!callerUrl.endsWith('.ts')) return beside;
  const built = new URL(`dist/${beside.href.slice(ROOT.href.length)}`, ROOT);
  if (!existsSync(fileURLToPath(built))) {
    throw new Error(`${fileURLToPath(built)} is missing: run "npm run build" (npm test does) before running the tests`);
  }
  return built;
}

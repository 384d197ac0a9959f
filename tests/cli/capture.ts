/** Run gatectl in-process, as a user would type it, capturing what it prints. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/gatectl.js';

export interface Ran {
  code: number;
  out: string;
  err: string;
}

export async function gatectl(argv: string[], signal?: AbortSignal): Promise<Ran> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (t) => void (out += t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => void (err += t.endsWith('\n') ? t : `${t}\n`),
    ...(signal ? { signal } : {}),
  });
  return { code, out, err };
}

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gatectl-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

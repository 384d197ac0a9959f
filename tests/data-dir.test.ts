/** Files at rest: the data directory and the database files are the daemon's own, whatever the umask. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { secureDataDir, tightenDataFiles } from '../src/daemon/data-dir.js';
import { createLogger } from '../src/log.js';

const root = mkdtempSync(join(tmpdir(), 'gc-datadir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

function capture() {
  let text = '';
  const log = createLogger({ level: 'info', destination: new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) }) });
  return { log, text: () => text };
}

describe('data directory', () => {
  it('creates a missing directory 0700 even under umask 022, silently', () => {
    const old = process.umask(0o022);
    try {
      const c = capture();
      const dir = join(root, 'new', 'data');
      secureDataDir(dir, c.log);
      expect(mode(dir)).toBe('700');
      expect(c.text()).toBe('');
    } finally {
      process.umask(old);
    }
  });

  it('warns, naming it, about an existing directory others can read; 0700 and 0750 pass quietly', () => {
    for (const [m, warns] of [[0o755, true], [0o704, true], [0o701, true], [0o750, false], [0o700, false]] as const) {
      const dir = join(root, `d${m.toString(8)}`);
      mkdirSync(dir);
      chmodSync(dir, m);
      const c = capture();
      secureDataDir(dir, c.log);
      expect(mode(dir), 'left as it was').toBe(m.toString(8));
      if (!warns) expect(c.text()).toBe('');
      else expect(JSON.parse(c.text())).toMatchObject({ level: 40, dir, mode: m.toString(8) });
    }
  });

  it('narrows a leftover database, WAL, -shm and photos to 0600 (photos dir 0700)', () => {
    const dir = join(root, 'leftover');
    mkdirSync(join(dir, 'photos'), { recursive: true });
    chmodSync(join(dir, 'photos'), 0o755);
    for (const f of ['gate.db', 'gate.db-wal', 'gate.db-shm', 'photos/a.jpg']) {
      writeFileSync(join(dir, f), 'x');
      chmodSync(join(dir, f), 0o644);
    }
    tightenDataFiles(join(dir, 'gate.db'), dir);
    expect(['gate.db', 'gate.db-wal', 'gate.db-shm', 'photos/a.jpg', 'photos'].map((f) => mode(join(dir, f)))).toEqual(['600', '600', '600', '600', '700']);
    // Nothing there yet (first start): nothing to do.
    expect(() => tightenDataFiles(join(root, 'none', 'gate.db'), join(root, 'none'))).not.toThrow();
  });
});

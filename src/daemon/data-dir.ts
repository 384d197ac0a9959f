/**
 * Files at rest: the data directory holds names, phones, photos and the
 * gate's signing key, so it is created 0700 and the database, its WAL and
 * -shm, the photos and the key files are 0600, whatever the umask the
 * daemon was started with (a hand start usually has 022). A directory that
 * other users can read is not changed behind the operator's back (it may
 * be shared on purpose) but named in a warning at every start.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';

/** No group or other bits on anything the process creates from here on. */
export const PRIVATE_UMASK = 0o077;

/** The data directory: created 0700; an existing one that others can read or enter gets a warning. */
export function secureDataDir(dir: string, log: Logger): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // mkdir's mode passes through the umask
    return;
  }
  const mode = statSync(dir).mode & 0o777;
  if (mode & 0o007) {
    log.warn(
      { dir, mode: mode.toString(8) },
      'the data directory is open to other users (it holds personal data and keys): chmod 700 it, or 750 with the service group',
    );
  }
}

/** Narrow leftovers from an earlier, looser start: the database files and the photos to 0600. */
export function tightenDataFiles(dbPath: string, dataDir: string): void {
  const narrow = (path: string, want: number) => {
    try {
      const st = lstatSync(path);
      if (st.isSymbolicLink()) return;
      if ((st.mode & 0o777 & ~want) !== 0) chmodSync(path, want);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  };
  for (const suffix of ['', '-wal', '-shm', '-journal']) narrow(`${dbPath}${suffix}`, 0o600);
  const photos = join(dataDir, 'photos');
  if (!existsSync(photos)) return;
  narrow(photos, 0o700);
  for (const f of readdirSync(photos)) narrow(join(photos, f), 0o600);
}

/**
 * Erase one visitor's personal data kept beside the whitelist: the visitors
 * row (name, phone, organisation, masked document…) and the photo file.
 * Used by central's purge-person command; the daily retention purge in
 * admin/ does the same for every visitor whose pass ended long enough ago.
 */
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { VisitorStore } from './store/visitors.js';

export function eraseVisitor(visitors: VisitorStore, dataDir: string, personId: string): boolean {
  const photo = visitors.get(personId)?.photoFile;
  const removed = visitors.remove(personId);
  // Row first, file after: a crash in between leaves an orphan photo, never a row pointing nowhere.
  if (photo) rmSync(join(dataDir, 'photos', basename(photo)), { force: true });
  return removed;
}

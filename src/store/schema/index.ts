/**
 * Every area's migrations, in the order they run. Each area owns one file
 * under schema/ and adds ONE line here; ids are prefixed by area so lists
 * never collide.
 */
import type { Migration } from '../migrations.js';
import { CORE_MIGRATIONS } from './core.js';
import { SYNC_MIGRATIONS } from './sync.js';
import { ADMIN_MIGRATIONS } from './admin.js';

export const MIGRATIONS: Migration[] = [
  ...CORE_MIGRATIONS,
  ...SYNC_MIGRATIONS,
  ...ADMIN_MIGRATIONS,
];

/**
 * Which better-sqlite3 this process loads. Two majors are installed
 * (package.json) and one is chosen by the running Node:
 *
 * - Node-API 10 or newer (Node 22.14+, 24, the Pi's runtimes): better-sqlite3
 *   13 (`better-sqlite3-napi`), a Node-API addon. 12.x derives its
 *   Statement and Database from node::ObjectWrap, and since Node 24.19 that
 *   class's destructor CHECKs for an entered Environment: a Statement
 *   collected by an idle GC, or after a worker thread's teardown, aborts the
 *   whole process (SIGABRT, "Assertion failed: (env) != nullptr" in
 *   node::RemoveEnvironmentCleanupHook; nodejs/node#65446,
 *   WiseLibs/better-sqlite3#1515). Seen here: the suite on Node 24.21 died
 *   in the first minute.
 * - Older (Node 20, this repository's CI machine): better-sqlite3 12, since
 *   13 needs Node-API 10 (its prebuilt addon crashes on Node 20).
 *
 * The JavaScript API is the same in both (tests run the whole suite on each).
 * Worker threads import this module too, so they load the same one.
 *
 * One difference in cost: with 13, a statement with a bound parameter in
 * `LIMIT ?`, or in the WHERE of a join, is prepared again at every run (and
 * its row shape compiled again): the whitelist lookup took 80-100 µs instead
 * of 10. Such parameters are written `+?` (the same value, plan and result;
 * 12.x costs the same either way).
 */
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';

const require = createRequire(import.meta.url);

/** The package name of the driver this Node runs. */
export const SQLITE_DRIVER: 'better-sqlite3-napi' | 'better-sqlite3' =
  Number(process.versions.napi ?? 0) >= 10 ? 'better-sqlite3-napi' : 'better-sqlite3';

/** The driver's resolved entry file. */
export const sqliteModulePath: string = require.resolve(SQLITE_DRIVER);

/** The better-sqlite3 Database class (constructor and types as in @types/better-sqlite3). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const DatabaseClass = require(SQLITE_DRIVER) as typeof Database;

export default DatabaseClass;

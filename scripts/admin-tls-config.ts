/**
 * An upgrade from before the admin page served HTTPS: a kept config whose
 * `admin.listen` is beyond loopback, with neither `admin.tls` nor
 * `admin.allowPlainHttp: true`, is now a config error (exit 78), and a gate
 * that does not come back after an upgrade lets nobody through. The
 * installer therefore points such a config at the certificate it has just
 * made. Everything else in the file (comments, order, other keys) stays as
 * it was; a config that needs nothing is left untouched.
 *
 *   node dist/scripts/admin-tls-config.js --config FILE --cert CRT --key KEY
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMap, parseDocument } from 'yaml';
import { isLoopbackHost } from '../src/config.js';

export type TlsMigration =
  | { changed: true; text: string }
  | { changed: false; why: 'no admin page' | 'loopback only' | 'has tls' | 'plain HTTP allowed' };

/** The config text with `admin.tls` added where the page would otherwise refuse to start. */
export function withAdminTls(text: string, tls: { cert: string; key: string }): TlsMigration {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(`not valid YAML: ${doc.errors[0]!.message}`);
  const admin = doc.get('admin', true);
  if (!isMap(admin)) return { changed: false, why: 'no admin page' };
  const listen = admin.get('listen');
  if (typeof listen !== 'string' || !listen.includes(':')) return { changed: false, why: 'no admin page' };
  if (isLoopbackHost(listen.slice(0, listen.lastIndexOf(':')))) return { changed: false, why: 'loopback only' };
  if (admin.has('tls')) return { changed: false, why: 'has tls' };
  if (admin.get('allowPlainHttp') === true) return { changed: false, why: 'plain HTTP allowed' };
  admin.set('tls', doc.createNode({ cert: tls.cert, key: tls.key }, { flow: true }));
  return { changed: true, text: doc.toString() };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({ options: { config: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } } });
  if (!values.config || !values.cert || !values.key) {
    process.stderr.write('usage: admin-tls-config --config FILE --cert CRT --key KEY\n');
    process.exit(2);
  }
  try {
    const r = withAdminTls(readFileSync(values.config, 'utf8'), { cert: values.cert, key: values.key });
    if (r.changed) {
      // Written in place: the file keeps its owner and mode (root:gate 0640).
      writeFileSync(values.config, r.text);
      process.stdout.write(`${values.config}: admin.tls added (${values.cert}): the admin page is served over HTTPS\n`);
    } else {
      process.stdout.write(`${values.config}: admin.tls unchanged (${r.why})\n`);
    }
  } catch (err) {
    process.stderr.write(`admin-tls-config: ${values.config}: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

/**
 * `gatectl whitelist push FILE --site S`: validate the file (nothing is
 * published if any row is bad), hash ID numbers with the site key, find the
 * current version from the retained manifest, publish the next version as a
 * signed delta and a signed retained snapshot.
 */
import { BROKER_HELP, BROKER_OPTIONS, SIGNING_OPTIONS, brokerOptions, connectOnce, signingKey } from '../broker-options.js';
import { identOpt, intOpt, parseCommandArgs, str, wantsHelp } from '../args.js';
import { CliError } from '../cli-error.js';
import type { GatectlCommand } from '../command.js';
import { readWhitelistFile } from '../whitelist-file.js';
import { deltaSize, diffWhitelist, publishWhitelist, readCurrentSnapshot } from '../whitelist-publish.js';
import { SnapshotTooLargeError } from '../../sync/protocol/snapshot.js';

/** Above this a delta is not worth it: gates fetch the snapshot instead. */
const MAX_DELTA_BYTES = 4 * 1024 * 1024;

const help = `Usage: gatectl whitelist push FILE --site SITE [--hash-key HEX] [options]

Publishes FILE as the site's next whitelist version: a signed delta against
the current retained snapshot, then the signed retained snapshot itself.
Any bad row stops everything: nothing is published.

  --site SITE          site id (topic gate/v1/SITE/whitelist/…)
  --hash-key HEX       the site's privacy.idHashKey (env GATECTL_HASH_KEY);
                       needed when the file has ID numbers: they are HMAC-hashed
                       here and never sent in clear
  --schedules FILE     schedules CSV (with a people CSV)
  --version N          publish as version N (default: current + 1)
  --chunk-size N       records per snapshot chunk (default: the protocol's, 1000)
  --dry-run            check the file and print what would change; publish nothing

CSV (one person per row; header names in any order, case-insensitive):
  personId,kind,name      required; kind = staff | visitor | contractor | security
  hostId,escort           optional; escort = true/false
  cards                   card UIDs in hex, several separated by ";" (04:A2:1B:3C ok)
  idNumber                18-character resident ID number (hashed to an id: key)
  passId                  a QR pass id (pass: key)
  status                  active (default) | suspended | blacklisted
  validFrom,validTo       ISO 8601 with offset: 2026-12-01T08:00:00+08:00
  maxEntries,scheduleId   a whole number; a schedule id from --schedules
Schedules CSV (one window per row, rows with one id add windows):
  id,days,from,to,holidays   days "1-5" or "6;7" (Monday = 1), from/to "HH:MM",
                             holidays "2026-10-01;2026-10-02"
JSON:
  {"people": [{"id","kind","name","hostId"?,"escort"?,"photo"?}],
   "credentials": [{"personId", one of "card"|"idNumber"|"passId"|"key",
                    "status"?, "validFrom"?, "validTo"?, "maxEntries"?, "scheduleId"?}],
   "schedules": [{"id", "windows": [{"days": [1,2], "from": "08:00", "to": "18:00"}], "holidays": []}]}

${BROKER_HELP}`;

function hashKeyOf(v: string | undefined): Buffer | undefined {
  if (v === undefined) return undefined;
  if (!/^([0-9a-fA-F]{2}){16,}$/.test(v)) throw new CliError('BAD_ARGS', '--hash-key: expected at least 16 bytes as hex (the gates\' privacy.idHashKey)', 2);
  return Buffer.from(v, 'hex');
}

export const whitelistPushCommand: GatectlCommand = {
  name: ['whitelist', 'push'],
  summary: 'publish a whitelist from CSV or JSON as the next version (delta + snapshot)',
  help,
  async run(argv, io) {
    const p = parseCommandArgs(
      argv,
      {
        ...BROKER_OPTIONS,
        ...SIGNING_OPTIONS,
        site: { type: 'string' },
        'hash-key': { type: 'string' },
        schedules: { type: 'string' },
        version: { type: 'string' },
        'chunk-size': { type: 'string' },
        'dry-run': { type: 'boolean' },
      },
      help,
    );
    if (wantsHelp(p)) return (io.out(help), 0);
    const file = p.positionals[0];
    if (!file || p.positionals.length > 1) throw new CliError('BAD_ARGS', `expected one FILE\n\n${help}`, 2);
    const site = identOpt(p, 'site');
    const hashKey = hashKeyOf(str(p, 'hash-key') ?? process.env.GATECTL_HASH_KEY);
    const wanted = intOpt(p, 'version');
    const perChunk = intOpt(p, 'chunk-size');
    if (perChunk !== undefined && perChunk < 1) throw new CliError('BAD_ARGS', '--chunk-size must be at least 1', 2);
    const schedulesFile = str(p, 'schedules');
    // Everything local first: a bad row or key never reaches the broker.
    const data = readWhitelistFile(file, { ...(hashKey ? { hashKey } : {}), ...(schedulesFile ? { schedulesFile } : {}) });
    const signer = signingKey(p);
    const client = await connectOnce(brokerOptions(p));
    try {
      const current = await readCurrentSnapshot(client, site);
      if (current.unreadable && wanted === undefined) {
        throw new CliError('MANIFEST_UNREADABLE', `the site's retained manifest cannot be read, so its version is unknown; give --version N (above every gate's) to publish anyway`);
      }
      const version = wanted ?? current.version + 1;
      if (version <= current.version) {
        throw new CliError('VERSION_NOT_NEWER', `--version ${version} is not newer than the site's current version ${current.version}`);
      }
      const base = current.data ?? (current.version === 0 ? { people: [], credentials: [], schedules: [] } : undefined);
      let delta = base ? diffWhitelist(base, data, version, current.version) : undefined;
      if (current.problem) io.err(`warning: ${current.problem}; publishing the snapshot only (gates fetch it in full)`);
      if (delta && Buffer.byteLength(JSON.stringify(delta)) > MAX_DELTA_BYTES) {
        io.err('note: the delta is larger than 4 MiB; publishing the snapshot only');
        delta = undefined;
      }
      const counts = `${data.people.length} people, ${data.credentials.length} credentials, ${data.schedules.length} schedules`;
      const change = delta ? deltaSize(delta) : undefined;
      const changeText = change ? `delta from ${current.version}: ${change.upserts} upserts, ${change.deletes} deletes` : 'no delta';
      if (p.values['dry-run']) {
        io.out(`dry run: site ${site} version ${current.version} → ${version}: ${counts}; ${changeText}`);
        return 0;
      }
      let r: Awaited<ReturnType<typeof publishWhitelist>>;
      try {
        r = await publishWhitelist(client, { site, version, data, ...(delta ? { delta } : {}), oldChunks: current.oldChunks, ...(perChunk ? { perChunk } : {}) }, signer);
      } catch (err) {
        // Thrown before the first publish: nothing reached the broker.
        if (err instanceof SnapshotTooLargeError) throw new CliError('CHUNK_TOO_LARGE', `${err.message}; nothing was published`);
        throw err;
      }
      if (delta && r.deltaBytes === 0) io.err('note: the signed delta is larger than a gate accepts (mqtt.maxPayloadBytes default); published the snapshot only');
      io.out(`published site ${site} whitelist version ${version}: ${counts}; ${r.chunks} chunk(s); ${delta && r.deltaBytes === 0 ? 'no delta' : changeText}`);
      return 0;
    } finally {
      await client.endAsync();
    }
  },
};

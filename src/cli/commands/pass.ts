/**
 * `gatectl pass issue`: a signed QR visitor pass and a PNG of its QR code.
 * The token holds a pass id, never the visitor's name (minimal personal
 * data on a code anyone can photograph); the name is printed here only, for
 * the operator who hands the pass over.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import QRCode from 'qrcode';
import { passKey, signPass, type PassBody } from '../../credentials/pass.js';
import { SIGNING_OPTIONS, signingKey } from '../broker-options.js';
import { IDENT, identOpt, intOpt, parseCommandArgs, requireStr, str, timeOpt, wantsHelp } from '../args.js';
import { CliError } from '../cli-error.js';
import type { GatectlCommand } from '../command.js';

const help = `Usage: gatectl pass issue --site SITE --name NAME --from TIME --to TIME --key-file FILE --out pass.png [options]

Signs a QR visitor pass (GP1 token) with central's key and writes its QR code as PNG.
  --site SITE        the site whose gates accept it
  --name NAME        the visitor's name: printed here only, NOT put in the pass
  --from, --to TIME  validity window, ISO 8601 (2026-11-23T09:00+08:00)
  --max N            entries allowed (default: unlimited within the window)
  --gates g1,g2      only these gates (default: every gate of the site)
  --host ID          host person id
  --escort           the visitor must be escorted (a staff tap after the pass)
  --pid ID           pass id (default: random); the gate's credential key is pass:ID
  --out FILE         PNG file to write
  --key-file FILE    central's private key (see gatectl keygen); env GATECTL_KEY_FILE`;

export const passIssueCommand: GatectlCommand = {
  name: ['pass', 'issue'],
  summary: 'sign a QR visitor pass and write its QR code as PNG',
  help,
  async run(argv, io) {
    const p = parseCommandArgs(
      argv,
      {
        ...SIGNING_OPTIONS,
        site: { type: 'string' },
        name: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        max: { type: 'string' },
        gates: { type: 'string' },
        host: { type: 'string' },
        escort: { type: 'boolean' },
        pid: { type: 'string' },
        out: { type: 'string' },
      },
      help,
    );
    if (wantsHelp(p)) return (io.out(help), 0);
    const site = identOpt(p, 'site');
    const name = requireStr(p, 'name');
    requireStr(p, 'from');
    requireStr(p, 'to');
    const nbf = Math.floor(timeOpt(p, 'from')! / 1000);
    const exp = Math.floor(timeOpt(p, 'to')! / 1000);
    if (exp <= nbf) throw new CliError('BAD_ARGS', '--to must be after --from', 2);
    const max = intOpt(p, 'max');
    if (max !== undefined && max < 1) throw new CliError('BAD_ARGS', '--max must be at least 1', 2);
    const gates = str(p, 'gates')?.split(',').map((g) => g.trim()).filter(Boolean);
    for (const g of gates ?? []) if (!IDENT.test(g)) throw new CliError('BAD_ARGS', `--gates: "${g}" is not a gate id`, 2);
    const pid = str(p, 'pid') ?? `p-${randomBytes(8).toString('hex')}`;
    if (!IDENT.test(pid)) throw new CliError('BAD_ARGS', `--pid: expected 1-64 letters, digits, _ or -, got "${pid}"`, 2);
    const out = resolve(requireStr(p, 'out'));
    const host = str(p, 'host');
    const body: PassBody = {
      pid,
      site,
      nbf,
      exp,
      ...(gates?.length ? { gates } : {}),
      ...(max !== undefined ? { max } : {}),
      ...(host ? { host } : {}),
      ...(p.values.escort ? { escort: true } : {}),
    };
    const { key } = signingKey(p);
    let token: string;
    try {
      token = signPass(body, key);
    } catch (cause) {
      throw new CliError('BAD_PASS', (cause as Error).message, 2, { cause });
    }
    mkdirSync(dirname(out), { recursive: true });
    // Medium error correction: a phone screen with glare or a worn print still scans.
    await QRCode.toFile(out, token, { type: 'png', errorCorrectionLevel: 'M', margin: 4, scale: 6 });
    io.out(`pass ${pid} for ${name} (name not in the pass): ${new Date(nbf * 1000).toISOString()} → ${new Date(exp * 1000).toISOString()}`);
    io.out(`credential key: ${passKey(pid)}; QR code: ${out}`);
    io.out(token);
    return 0;
  },
};

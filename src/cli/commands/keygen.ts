/**
 * `gatectl keygen --kid K [--out DIR]`: an Ed25519 key pair for central's
 * signed envelopes and QR passes. The private key is written 0600 and never
 * printed; the public key is written as SPKI PEM and printed as base64 raw
 * bytes, ready for the gate config `central.keys`.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateKeyPair } from '../../sync/protocol/keys.js';
import { IDENT, parseCommandArgs, requireStr, str, wantsHelp } from '../args.js';
import { CliError } from '../cli-error.js';
import type { GatectlCommand } from '../command.js';

const help = `Usage: gatectl keygen --kid KID [--out DIR] [--force]

Makes an Ed25519 key pair for signing whitelists, commands and QR passes.
  --kid KID    key id the gates will know this key by (letters, digits, _ -)
  --out DIR    where to write KID.key.pem (private, mode 0600) and KID.pub.pem
               (default: the current directory)
  --force      overwrite existing files
Prints the public key as base64 raw bytes for the gate config:
  central: { keys: { KID: "<printed value>" } }`;

export const keygenCommand: GatectlCommand = {
  name: ['keygen'],
  summary: 'make an Ed25519 signing key pair with a kid',
  help,
  async run(argv, io) {
    const p = parseCommandArgs(argv, { kid: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } }, help);
    if (wantsHelp(p)) return (io.out(help), 0);
    const kid = requireStr(p, 'kid');
    if (!IDENT.test(kid)) throw new CliError('BAD_ARGS', `--kid: expected 1-64 letters, digits, _ or -, got "${kid}"`, 2);
    const dir = resolve(str(p, 'out') ?? '.');
    mkdirSync(dir, { recursive: true });
    const privPath = join(dir, `${kid}.key.pem`);
    const pubPath = join(dir, `${kid}.pub.pem`);
    if (!p.values.force) {
      for (const f of [privPath, pubPath]) {
        if (existsSync(f)) throw new CliError('FILE_EXISTS', `${f} exists; not overwriting a key (use --force)`);
      }
    }
    const pair = generateKeyPair();
    writeFileSync(privPath, pair.privatePem, { mode: 0o600, flag: p.values.force ? 'w' : 'wx' });
    chmodSync(privPath, 0o600); // --force over an older file keeps its old mode otherwise
    writeFileSync(pubPath, pair.publicPem, { mode: 0o644, flag: p.values.force ? 'w' : 'wx' });
    io.out(`private key: ${privPath} (keep it secret; mode 0600)`);
    io.out(`public key:  ${pubPath}`);
    io.out(`gate config: central: { keys: { ${kid}: "${pair.publicRaw}" } }`);
    io.out(pair.publicRaw);
    return 0;
  },
};

/** `gatectl broker acl --site S --gates g1,g2`: print the mosquitto ACL for a site's gates and central. */
import { IDENT, identOpt, parseCommandArgs, requireStr, str, wantsHelp } from '../args.js';
import { CliError } from '../cli-error.js';
import type { GatectlCommand } from '../command.js';
import { ACL_USER, brokerAcl } from '../broker-acl.js';

const help = `Usage: gatectl broker acl --site SITE --gates G1,G2,... [--central-user USER]

Prints the mosquitto acl_file (acl_file /etc/mosquitto/gate.acl) for a site:
each gate's account may publish only its own status, events, alerts,
registrations and command results, and read only its own acks and commands
and its site's commands and whitelist; central's account reads and writes
under gate/v1/. Anything not listed is denied.

  --site SITE            site id
  --gates LIST           gate ids, comma-separated; a gate's broker username is
                         its id, or USER given as GATE=USER
  --central-user USER    central's broker username (default: central)

Use it with allow_anonymous false and a password_file or client certificates
(use_identity_as_username true): see docs/mqtt-security.md.`;

export const brokerAclCommand: GatectlCommand = {
  name: ['broker', 'acl'],
  summary: 'print the mosquitto ACL for a site\'s gates and central',
  help,
  async run(argv, io) {
    const p = parseCommandArgs(argv, { site: { type: 'string' }, gates: { type: 'string' }, 'central-user': { type: 'string' } }, help);
    if (wantsHelp(p)) return (io.out(help), 0);
    if (p.positionals.length) throw new CliError('BAD_ARGS', `unexpected argument "${p.positionals[0]}"\n\n${help}`, 2);
    const site = identOpt(p, 'site');
    const centralUser = str(p, 'central-user') ?? 'central';
    if (!ACL_USER.test(centralUser)) throw new CliError('BAD_ARGS', `--central-user: expected 1-128 letters, digits, _ . @ or -, got "${centralUser}"`, 2);
    const gates: Array<{ gate: string; user: string }> = [];
    const users = new Set([centralUser]);
    for (const item of requireStr(p, 'gates').split(',')) {
      const [gate = '', user = gate, ...more] = item.trim().split('=');
      if (!IDENT.test(gate) || more.length) throw new CliError('BAD_ARGS', `--gates: "${item}" is not a gate id (1-64 letters, digits, _ or -) or GATE=USER`, 2);
      if (!ACL_USER.test(user)) throw new CliError('BAD_ARGS', `--gates: username "${user}" of gate ${gate}: expected 1-128 letters, digits, _ . @ or -`, 2);
      if (gates.some((g) => g.gate === gate)) throw new CliError('BAD_ARGS', `--gates: gate ${gate} is listed twice`, 2);
      if (users.has(user)) throw new CliError('BAD_ARGS', `--gates: username "${user}" is used twice (each gate and central need their own account)`, 2);
      users.add(user);
      gates.push({ gate, user });
    }
    io.out(brokerAcl({ site, gates, centralUser }));
    return 0;
  },
};

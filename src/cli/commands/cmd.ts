/**
 * `gatectl cmd open|set-mode|replay|purge-person|ping --gate G --site S`:
 * a signed command, then the gate's result printed as JSON. Exit 0 when the
 * gate says ok, 1 when it refuses, 3 when no result comes in time.
 */
import { userInfo } from 'node:os';
import { BROKER_HELP, BROKER_OPTIONS, SIGNING_OPTIONS, brokerOptions, connectOnce, signingKey } from '../broker-options.js';
import { identOpt, intOpt, parseCommandArgs, requireStr, secondsOpt, str, wantsHelp, type Parsed } from '../args.js';
import { CliError } from '../cli-error.js';
import type { GatectlCommand } from '../command.js';
import { broadcastCommand, buildCommand, requestCommand, type CommandFields } from '../command-request.js';

const help = `Usage: gatectl cmd TYPE --site SITE (--gate GATE | --all) [options]

Sends a signed command to one gate and prints its result (JSON). With --all it
goes to every gate of the site (gate/v1/SITE/cmd): each answer is printed as
{"gate", ...result} for --timeout seconds (how many gates there are is not known here).
  open          --direction in|out  --reason TEXT  [--operator NAME]
  set-mode      --mode normal|lockdown|emergency  --reason TEXT  [--operator NAME]
  replay        --from SEQ [--to SEQ]   resend journal events to central
  purge-person  --person ID             remove the person's personal data on the gate
  ping

  --timeout S   seconds to wait for the result (default 10)
  --ttl S       the command expires after S seconds (default 60); a gate that is
                offline longer refuses it when it comes back
  --operator    who asks (default: the local user name)
Exit status: 0 ok (--all: every answer ok), 1 refused by a gate or other error, 2 usage,
3 no result in time.

${BROKER_HELP}`;

const TYPES = ['open', 'set-mode', 'replay', 'purge-person', 'ping'] as const;

function oneOf<T extends string>(p: Parsed, name: string, allowed: readonly T[]): T {
  const v = requireStr(p, name);
  if (!(allowed as readonly string[]).includes(v)) throw new CliError('BAD_ARGS', `--${name}: expected one of ${allowed.join(', ')}, got "${v}"`, 2);
  return v as T;
}

function fieldsFor(type: (typeof TYPES)[number], p: Parsed): CommandFields {
  const operator = str(p, 'operator') ?? userInfo().username;
  switch (type) {
    case 'open':
      return { type, direction: oneOf(p, 'direction', ['in', 'out'] as const), reason: requireStr(p, 'reason'), operator };
    case 'set-mode':
      return { type, mode: oneOf(p, 'mode', ['normal', 'lockdown', 'emergency'] as const), reason: requireStr(p, 'reason'), operator };
    case 'replay': {
      const fromSeq = intOpt(p, 'from');
      if (fromSeq === undefined) throw new CliError('BAD_ARGS', '--from is required for replay', 2);
      const toSeq = intOpt(p, 'to');
      return { type, fromSeq, ...(toSeq !== undefined ? { toSeq } : {}) };
    }
    case 'purge-person':
      return { type, personId: requireStr(p, 'person') };
    case 'ping':
      return { type };
  }
}

export const cmdCommand: GatectlCommand = {
  name: ['cmd'],
  summary: 'send a signed command to a gate (open, set-mode, replay, purge-person, ping) and print its result',
  help,
  async run(argv, io) {
    const p = parseCommandArgs(
      argv,
      {
        ...BROKER_OPTIONS,
        ...SIGNING_OPTIONS,
        site: { type: 'string' },
        gate: { type: 'string' },
        all: { type: 'boolean' },
        direction: { type: 'string' },
        mode: { type: 'string' },
        reason: { type: 'string' },
        operator: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        person: { type: 'string' },
        timeout: { type: 'string' },
        ttl: { type: 'string' },
      },
      help,
    );
    if (wantsHelp(p)) return (io.out(help), 0);
    const type = p.positionals[0];
    if (!type || !(TYPES as readonly string[]).includes(type) || p.positionals.length > 1) {
      throw new CliError('BAD_ARGS', `expected one TYPE: ${TYPES.join(', ')}${type ? ` (got "${p.positionals.join(' ')}")` : ''}\n\n${help}`, 2);
    }
    const site = identOpt(p, 'site');
    const all = p.values.all === true;
    if (all === (str(p, 'gate') !== undefined)) throw new CliError('BAD_ARGS', 'give either --gate GATE or --all', 2);
    const gate = all ? '' : identOpt(p, 'gate');
    const timeoutMs = secondsOpt(p, 'timeout', 10);
    const cmd = buildCommand(fieldsFor(type as (typeof TYPES)[number], p), Date.now(), secondsOpt(p, 'ttl', 60));
    const signer = signingKey(p);
    const client = await connectOnce(brokerOptions(p));
    try {
      if (all) {
        let refused = 0;
        const answers = await broadcastCommand(client, site, cmd, signer, timeoutMs, (g, result) => {
          io.out(JSON.stringify({ gate: g, ...result }));
          if (!result.ok) (refused++, io.err(`gate ${g} refused: ${result.error?.code ?? 'ERROR'}: ${result.error?.message ?? ''}`));
        });
        if (answers === 0) {
          io.err(`error CMD_TIMEOUT: no gate of site ${site} answered within ${timeoutMs / 1000} s (the command stays queued for offline gates until ${cmd.expiresAt})`);
          return 3;
        }
        io.err(`${answers} gate(s) answered, ${refused} refused`);
        return refused ? 1 : 0;
      }
      const result = await requestCommand(client, { site, gate }, cmd, signer, timeoutMs).catch((e: unknown) => {
        if (e instanceof CliError && e.code === 'CMD_TIMEOUT') return e;
        throw e;
      });
      if (result instanceof CliError) {
        io.err(`error ${result.code}: ${result.message}`);
        return 3;
      }
      io.out(JSON.stringify(result));
      if (!result.ok) io.err(`gate ${gate} refused: ${result.error?.code ?? 'ERROR'}: ${result.error?.message ?? ''}`);
      return result.ok ? 0 : 1;
    } finally {
      await client.endAsync();
    }
  },
};

#!/usr/bin/env node
/**
 * gatectl: the operator and central-office CLI. A small dispatcher over the
 * command table in commands/index.ts: the longest run of leading words that
 * names a command selects it; `--help` anywhere prints that command's usage.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError, processIO, type CliIO } from './cli-error.js';
import type { GatectlCommand } from './command.js';
import { COMMANDS } from './commands/index.js';

const wantsHelp = (argv: string[]) => argv.includes('--help') || argv.includes('-h');

function overview(list: readonly GatectlCommand[], title: string): string {
  const names = list.map((c) => c.name.join(' '));
  const width = Math.max(...names.map((n) => n.length));
  return [
    title,
    '',
    ...list.map((c, i) => `  ${names[i]!.padEnd(width)}  ${c.summary}`),
    '',
    'Run `gatectl <command> --help` for the options of one command.',
  ].join('\n');
}

function find(argv: string[], commands: readonly GatectlCommand[]): { cmd: GatectlCommand; rest: string[] } | undefined {
  let best: GatectlCommand | undefined;
  for (const c of commands) {
    if (c.name.every((w, i) => argv[i] === w) && (!best || c.name.length > best.name.length)) best = c;
  }
  return best && { cmd: best, rest: argv.slice(best.name.length) };
}

/** Run gatectl with these arguments (without node and script); resolves to the exit status. */
export async function main(argv: string[], io: CliIO, commands: readonly GatectlCommand[] = COMMANDS): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(overview(commands, 'Usage: gatectl <command> [options]'));
    return argv.length === 0 ? 2 : 0;
  }
  const hit = find(argv, commands);
  if (!hit) {
    const group = commands.filter((c) => c.name.length > 1 && c.name[0] === argv[0]);
    if (group.length && (argv.length === 1 || wantsHelp(argv))) {
      io.out(overview(group, `Usage: gatectl ${argv[0]} <command> [options]`));
      return wantsHelp(argv) ? 0 : 2;
    }
    io.err(`gatectl: unknown command "${argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ')}"\n\n${overview(commands, 'Commands:')}`);
    return 2;
  }
  if (wantsHelp(hit.rest)) {
    io.out(hit.cmd.help);
    return 0;
  }
  try {
    return await hit.cmd.run(hit.rest, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`gatectl ${hit.cmd.name.join(' ')}: ${err.message}`);
      return err.exitCode;
    }
    io.err(`gatectl ${hit.cmd.name.join(' ')}: ${(err as Error)?.message ?? String(err)}`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    // npm links bin/gatectl → dist/src/cli/gatectl.js: compare real paths.
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(130); // second signal: leave at once
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  main(process.argv.slice(2), processIO(abort.signal)).then(
    (code) => {
      process.exitCode = code;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
    (err: unknown) => {
      process.stderr.write(`gatectl: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

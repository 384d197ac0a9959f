/** The shape of one gatectl command (the table in commands/index.ts lists them). */
import type { CliIO } from './cli-error.js';

export interface GatectlCommand {
  /** Words that select it: `['whitelist', 'push']`, `['keygen']`. */
  name: string[];
  summary: string;
  help: string;
  /** Resolves to the exit status; throws CliError for what the operator must fix. */
  run(argv: string[], io: CliIO): Promise<number>;
}

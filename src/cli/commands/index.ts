/**
 * Every gatectl command, one per line. A command lives in its own file and
 * exports a GatectlCommand; adding one is adding its line here.
 */
import type { GatectlCommand } from '../command.js';
import { brokerAclCommand } from './broker-acl.js';
import { centralCommand } from './central.js';
import { cmdCommand } from './cmd.js';
import { fleetCommand } from './fleet.js';
import { journalVerifyCommand } from './journal-verify.js';
import { keygenCommand } from './keygen.js';
import { logsCommand } from './logs.js';
import { passIssueCommand } from './pass.js';
import { whitelistPushCommand } from './whitelist.js';

export const COMMANDS: readonly GatectlCommand[] = [
  journalVerifyCommand,
  keygenCommand,
  whitelistPushCommand,
  cmdCommand,
  passIssueCommand,
  centralCommand,
  logsCommand,
  brokerAclCommand,
  fleetCommand,
];

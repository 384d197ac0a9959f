import { GRANTING_REASONS } from '../store/types.js';

/** Stable decision reason codes (DESIGN.md): in events, on MQTT and on the admin page. */
export const REASONS = [
  'GRANTED', 'UNKNOWN_CREDENTIAL', 'NOT_YET_VALID', 'EXPIRED', 'SUSPENDED', 'BLACKLISTED',
  'OUTSIDE_SCHEDULE', 'ANTI_PASSBACK', 'ENTRIES_EXHAUSTED', 'ESCORT_REQUIRED',
  'ESCORT_TIMEOUT', 'WRONG_GATE', 'LOCKDOWN', 'INVALID_FORMAT', 'BAD_SIGNATURE',
  'DUPLICATE_TAP', 'EMERGENCY_OPEN',
] as const;

export type Reason = (typeof REASONS)[number];

// The store reads presence from the journal by these reasons: each must be one of ours.
GRANTING_REASONS satisfies readonly Reason[];

export type GateMode = 'normal' | 'lockdown' | 'emergency';
export const GATE_MODES: readonly GateMode[] = ['normal', 'lockdown', 'emergency'];

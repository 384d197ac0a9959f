/**
 * Whether the system clock is synchronized. systemd-timesyncd touches
 * /run/systemd/timesync/synchronized once it has synced (timesyncd(8));
 * without timesyncd (chrony, no NTP) the answer is unknown, not false.
 */
import { existsSync } from 'node:fs';

const FLAG = '/run/systemd/timesync/synchronized';
const TIMESYNC_DIR = '/run/systemd/timesync';

export function timesyncdSynced(): boolean | undefined {
  if (existsSync(FLAG)) return true;
  return existsSync(TIMESYNC_DIR) ? false : undefined;
}

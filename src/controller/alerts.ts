/**
 * What is an alert: the one definition. The gate emits `alert` for these
 * (sync publishes them on `…/alerts` ahead of the backlog), and the admin
 * page marks them and keeps them on its alert board until a guard
 * acknowledges them. Pure: it reads the journal event alone, so a past event
 * (live page history, a replay) is judged exactly as it was at the time.
 *
 * - a blacklisted credential at a reader: denied (reason BLACKLISTED), or let
 *   through in emergency mode (EMERGENCY_OPEN with `blacklisted: true`) —
 *   a fire opens the gate, it does not make a banned person welcome;
 * - a forced door, a mode change, a reader going offline;
 * - a tamper switch or the fire alarm input becoming active. Going back to
 *   normal is not a new alert; it does not clear one either: the guard
 *   acknowledges what happened.
 */
import type { JournalEvent } from '../store/types.js';

export function isAlert(ev: Pick<JournalEvent, 'type'> & { [field: string]: unknown }): boolean {
  switch (ev.type) {
    case 'access':
      return ev.reason === 'BLACKLISTED' || ev.blacklisted === true;
    case 'door_forced':
    case 'mode_changed':
      return true;
    case 'tamper':
    case 'fire_alarm':
      return ev.active !== false;
    case 'reader_status':
      return ev.connected === false;
    default:
      return false;
  }
}

/**
 * The mosquitto ACL a site should run (docs/mqtt-security.md): each gate's
 * account publishes only under its own topic root and reads only what
 * central sends it and its site; only central's account publishes
 * commands, acks and whitelists. Topic names come from the protocol module,
 * so the ACL and what the gate actually uses cannot drift apart.
 */
import { gateTopics, siteTopics, PROTOCOL_ROOT } from '../sync/protocol/topics.js';

export interface AclPlan {
  site: string;
  /** gate id → broker username (by default the gate id: set mqtt.username to it). */
  gates: Array<{ gate: string; user: string }>;
  /** The account central (gatectl, the collector) connects with. */
  centralUser: string;
}

/** A username the ACL file can carry on a `user` line (no spaces, no control characters). */
export const ACL_USER = /^[A-Za-z0-9_.@-]{1,128}$/;

export function brokerAcl(plan: AclPlan): string {
  const st = siteTopics(plan.site);
  const lines = [
    `# mosquitto acl_file for site ${plan.site} (gatectl broker acl). Anything not listed is denied.`,
    `# central: reads what gates publish, publishes commands, acks and whitelists.`,
    `user ${plan.centralUser}`,
    `topic readwrite ${PROTOCOL_ROOT}/#`,
    '',
  ];
  for (const { gate, user } of plan.gates) {
    const gt = gateTopics(plan.site, gate);
    lines.push(
      `# gate ${gate}: publishes only under its own root, reads only its own and its site's central topics.`,
      `user ${user}`,
      `topic write ${gt.status}`,
      `topic write ${gt.events}`,
      `topic write ${gt.alerts}`,
      `topic write ${gt.registrations}`,
      `topic write ${gt.cmdResult}`,
      `topic read ${gt.eventsAck}`,
      `topic read ${gt.registrationsAck}`,
      `topic read ${gt.cmd}`,
      `topic read ${st.cmd}`,
      `topic read ${st.manifest}`,
      `topic read ${st.delta}`,
      `topic read ${st.chunkWildcard}`,
      '',
    );
  }
  return lines.join('\n');
}

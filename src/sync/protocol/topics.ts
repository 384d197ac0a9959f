/**
 * MQTT topic names of protocol v1 (DESIGN.md "MQTT protocol v1").
 * Root `gate/v1/{site}/{gate}` for one gate, `gate/v1/{site}` for a site.
 * Site and gate ids are config `idLike` values (letters, digits, _ and -),
 * so they never contain the MQTT separators `/`, `+` or `#`.
 */

export const PROTOCOL_ROOT = 'gate/v1';

export interface GateTopics {
  /** gate → central, retained; also the last will. */
  status: string;
  /** gate → central: JSON array of 1..500 journal events in seq order. */
  events: string;
  /** central → gate, signed `{upTo}`. */
  eventsAck: string;
  /** gate → central: urgent events, ahead of any backlog. */
  alerts: string;
  /** gate → central: visitors registered on site (the only message with names). */
  registrations: string;
  /** central → gate, signed `{id}`. */
  registrationsAck: string;
  /** central → gate, signed command for this gate. */
  cmd: string;
  /** gate → central: `{id, ok, result?, error?}`. */
  cmdResult: string;
}

export interface SiteTopics {
  /** central → every gate of the site, signed command. */
  cmd: string;
  /** retained signed manifest `{version, chunks, sha256, createdAt}`. */
  manifest: string;
  /** retained signed chunk i of the snapshot. */
  chunk(i: number): string;
  /** subscription filter for every chunk. */
  chunkWildcard: string;
  /** signed delta `{version, baseVersion, upsert, delete}`. */
  delta: string;
}

function checkId(what: string, id: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    throw Object.assign(new Error(`${what} "${id}" is not a valid topic level (1-64 letters, digits, _ or -)`), {
      code: 'BAD_TOPIC_ID',
    });
  }
}

export function siteTopics(site: string): SiteTopics {
  checkId('site', site);
  const root = `${PROTOCOL_ROOT}/${site}`;
  return {
    cmd: `${root}/cmd`,
    manifest: `${root}/whitelist/manifest`,
    chunk: (i: number) => `${root}/whitelist/chunk/${i}`,
    chunkWildcard: `${root}/whitelist/chunk/+`,
    delta: `${root}/whitelist/delta`,
  };
}

export function gateTopics(site: string, gate: string): GateTopics {
  checkId('site', site);
  checkId('gate', gate);
  const root = `${PROTOCOL_ROOT}/${site}/${gate}`;
  return {
    status: `${root}/status`,
    events: `${root}/events`,
    eventsAck: `${root}/events/ack`,
    alerts: `${root}/alerts`,
    registrations: `${root}/registrations`,
    registrationsAck: `${root}/registrations/ack`,
    cmd: `${root}/cmd`,
    cmdResult: `${root}/cmd/result`,
  };
}

/**
 * Split a gate-level topic `gate/v1/{site}/{gate}/{rest}` (used by central
 * collectors subscribed with wildcards). Undefined for anything else.
 */
export function parseGateTopic(topic: string): { site: string; gate: string; rest: string } | undefined {
  const m = /^gate\/v1\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})\/(.+)$/.exec(topic);
  if (!m || m[2] === 'cmd' || m[2] === 'whitelist') return undefined;
  return { site: m[1]!, gate: m[2]!, rest: m[3]! };
}

/**
 * Socket options shared by every MQTT client of the project: the gate's link
 * (sync/mqtt-link.ts), gatectl (cli/) and the benches. Imports no layer.
 */
import type { MqttClient } from 'mqtt';

/**
 * TCP_NODELAY on the client's socket at every connection. mqtt.js leaves
 * Nagle's algorithm on: a small packet (a PUBACK, an ack, a command result)
 * written while an earlier one is unacknowledged waits for the peer's
 * delayed ACK, 40 ms on Linux. Gate and gatectl both; the broker has its own
 * switch (mosquitto `set_tcp_nodelay true`, README).
 */
export function noNagle(client: MqttClient): void {
  const set = () => (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
  set(); // the socket of the connection under way (or made)
  client.on('connect', set); // and of every reconnection
}

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

/**
 * Hold the client's socket writes of one turn of the event loop and send
 * them with one writev: mqtt-packet corks the socket per packet only until
 * the next tick, so a collector receiving hundreds of QoS 1 messages in one
 * read made one system call per PUBACK (a sixth of its CPU at 1,000 gates,
 * measured in bench/fleet). The socket is corked when a packet arrives and
 * uncorked on setImmediate, after everything that read caused was written:
 * no added latency beyond the turn. Each cork is undone on the stream it
 * was taken on (a reconnection brings a new one).
 */
export function coalesceWrites(client: MqttClient): void {
  let corked: { cork(): void; uncork(): void } | undefined;
  client.on('packetreceive', () => {
    if (corked) return;
    const s = client.stream as { cork?: () => void; uncork?: () => void } | undefined;
    if (!s?.cork || !s.uncork) return;
    corked = s as { cork(): void; uncork(): void };
    corked.cork();
    setImmediate(() => {
      const c = corked!;
      corked = undefined;
      c.uncork();
    });
  });
}

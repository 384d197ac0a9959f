/**
 * A loopback TCP proxy between the gate and the broker that the chaos tests
 * can cut. A cut is silent, like a pulled cable or a dead uplink: bytes stop
 * flowing both ways and new connections hang, but no FIN or RST is sent, so
 * the gate must notice by itself (MQTT keepalive). Restoring drops the hung
 * connections and forwards new ones again.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
  /** Connections accepted so far (a reconnect after a cut makes a new one). */
  connections(): number;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let cut = false;
  let accepted = 0;
  const pairs = new Set<{ a: Socket; b?: Socket }>();
  const server: Server = createServer((a) => {
    accepted++;
    const pair: { a: Socket; b?: Socket } = { a };
    pairs.add(pair);
    a.on('error', () => {});
    a.on('close', () => {
      pair.b?.destroy();
      pairs.delete(pair);
    });
    if (cut) {
      a.pause(); // hang: accept, never answer
      return;
    }
    const b = connect({ host: '127.0.0.1', port: targetPort });
    pair.b = b;
    b.on('error', () => a.destroy());
    b.on('close', () => a.destroy());
    a.on('data', (d) => {
      if (!cut) b.write(d);
    });
    b.on('data', (d) => {
      if (!cut) a.write(d);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    cut() {
      cut = true;
    },
    restore() {
      cut = false;
      // Connections that lived through the cut are dead for both ends by now.
      for (const p of pairs) {
        p.a.destroy();
        p.b?.destroy();
      }
      pairs.clear();
    },
    async close() {
      for (const p of pairs) {
        p.a.destroy();
        p.b?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    connections: () => accepted,
  };
}

/** A TCP proxy on loopback that a test can cut, to break the gate ↔ broker link without touching either. */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Proxy {
  port: number;
  url: string;
  /** Drop every connection and refuse new ones until restore(). */
  cut(): void;
  /** Connections refused since the proxy started (each a reconnect attempt during a cut). */
  readonly refused: number;
  restore(): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let blocked = false;
  let refused = 0;
  const server: Server = createServer((client) => {
    if (blocked) {
      refused++;
      return client.destroy();
    }
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const done = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    get refused() {
      return refused;
    },
    cut() {
      blocked = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      blocked = false;
    },
    close() {
      blocked = true;
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

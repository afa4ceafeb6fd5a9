// A loopback TCP proxy whose link can be cut and restored, to take a client away from a server
// that keeps running (e.g. to change etcd while a watch is disconnected).

import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** `<scheme>://127.0.0.1:<port>`. */
  url(scheme?: 'http' | 'https'): string;
  /** Drops every open connection and refuses new ones (accepted, then closed at once). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let isCut = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const server = createServer((down) => {
    track(down);
    if (isCut) {
      down.destroy();
      return;
    }
    const up = connect(targetPort, targetHost);
    track(up);
    down.pipe(up);
    up.pipe(down);
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      if (!addr || typeof addr !== 'object') return reject(new Error('proxy has no address'));
      resolve({
        port: addr.port,
        url: (scheme = 'http') => `${scheme}://127.0.0.1:${addr.port}`,
        cut: () => {
          isCut = true;
          for (const s of sockets) s.destroy();
        },
        restore: () => { isCut = false; },
        close: () => new Promise<void>((res) => {
          for (const s of sockets) s.destroy();
          server.close(() => res());
        }),
      });
    });
  });
}

// A TCP relay run inside a network namespace (node cannot enter one itself): each connection
// on a Unix socket, which the test in the host namespace can reach, becomes a TCP connection
// from `localAddress` to `host:port` in the namespace. Usage: relay.js <unix path> <host> <port> <local address>
import { connect, createServer } from 'node:net';

const [path, host, port, localAddress] = process.argv.slice(2);
if (!path || !host || !port || !localAddress) {
  process.stderr.write('usage: relay.js <unix path> <host> <port> <local address>\n');
  process.exit(2);
}
createServer((u) => {
  const t = connect({ host, port: Number(port), localAddress });
  u.pipe(t);
  t.pipe(u);
  t.on('error', () => u.destroy());
  u.on('error', () => t.destroy());
  t.on('close', () => u.destroy());
  u.on('close', () => t.destroy());
}).listen(path, () => process.stdout.write('relay ready\n'));

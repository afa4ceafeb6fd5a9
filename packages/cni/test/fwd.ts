// Runs inside the test's "host" namespace: accepts TCP on 127.0.0.1:<port> there and forwards
// each connection to a unix socket, which the test process (in the root namespace) connects to
// etcd. Unix sockets are not bound to a network namespace, so this is how the plugin, run inside
// the host namespace, reaches the etcd the test started on the root namespace's loopback.
import { connect, createServer } from 'node:net';

const [port, socketPath] = process.argv.slice(2);
const server = createServer((c) => {
  const u = connect(socketPath!);
  c.pipe(u);
  u.pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
  c.on('close', () => u.destroy());
  u.on('close', () => c.destroy());
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));

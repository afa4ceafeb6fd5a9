// Small Node programs the integration tests run inside network namespaces (`node -e`).

/** Inside the node namespace: 127.0.0.1:<port> there -> a unix socket -> etcd outside. */
export const FORWARDER = `
const net = require('net');
const [port, sock] = process.argv.slice(1);
net.createServer((c) => { const u = net.connect(sock); c.pipe(u); u.pipe(c);
  for (const [a, b] of [[c, u], [u, c]]) { a.on('error', () => b.destroy()); a.on('close', () => b.destroy()); } })
  .listen(+port, '127.0.0.1', () => console.log('ready'));
`;

/** A TCP server answering "ok" on the given port. */
export const SERVER = `
require('net').createServer((s) => { s.on('error', () => {}); s.end('ok'); }).listen(+process.argv[1], '0.0.0.0', () => console.log('ready'));
`;

/** Connects to <host> <port>; exit 0 connected, 1 refused/error, 2 timed out (1 s). */
export const CLIENT = `
const s = require('net').connect(+process.argv[2], process.argv[1], () => process.exit(0));
s.setTimeout(1000, () => process.exit(2)); s.on('error', () => process.exit(1));
`;

// A TCP echo server and client for connectivity checks between pod namespaces.
//   node echo.js server <ip> <port>          prints "ready", answers each line with "echo:<line>"
//   node echo.js client <ip> <port> <text>   prints the answer and exits (exit 1 on error or after 5 s)
import { connect, createServer } from 'node:net';

const [mode, host, port, text] = process.argv.slice(2);
if (mode === 'server') {
  createServer((c) => {
    c.on('data', (d) => c.end(`echo:${d.toString().trim()}\n`));
    c.on('error', () => c.destroy());
  }).listen(Number(port), host, () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => process.exit(0));
} else {
  const timer = setTimeout(() => { process.stderr.write('timed out\n'); process.exit(1); }, 5000);
  const s = connect(Number(port), host!, () => s.write(`${text}\n`));
  let got = '';
  s.on('data', (d) => { got += d.toString(); });
  s.on('end', () => { clearTimeout(timer); process.stdout.write(got); });
  s.on('error', (e) => { clearTimeout(timer); process.stderr.write(`${e.message}\n`); process.exit(1); });
}

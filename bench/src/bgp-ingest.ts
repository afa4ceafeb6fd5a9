// Benchmark: how fast, and with how much memory, a BGP receiver takes in N IPv4 /24 prefixes
// from a BIRD 2 sender over a veth. Our bgpd, BIRD 2 and GoBGP are measured in the same run
// on the same machine, one after the other. Kernel export is off for every receiver, so the
// numbers are about BGP ingest alone.
//
//   node bench/dist/bgp-ingest.js [N ...] [--receivers=bgpd,bird2,gobgp] [--no-record]
//   (default: 100000 1000000, all receivers, results appended to bench/RESULTS.md)
// Appends a section to bench/RESULTS.md.

import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, vethPair, tmpDir, startBird, startInNetns, eventually, type Netns, type Daemon } from '@tabby/test-support';
import { request, type SpeakerStats, type PeerStatus } from '@tabby/bgpd';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BGPD = join(ROOT, 'packages/bgpd/bin/bgpd.js');

interface Result { receiver: string; n: number; seconds: number; peakRssMiB: number; note: string }

function senderConfig(n: number): string {
  const routes: string[] = [];
  for (let i = 0; i < n; i++) routes.push(`  route ${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24 blackhole;`);
  return `router id 10.210.0.1;
protocol device {}
protocol static sender_static { ipv4;
${routes.join('\n')}
}
protocol bgp to_receiver { local 10.210.0.1 as 65001; neighbor 10.210.0.2 as 65002; hold time 90; connect retry time 1; error wait time 1, 5; ipv4 { import none; export all; }; }
`;
}

function peakRssMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The PID of the program `ip netns exec` ran (it execs, so it is the same process). */
const pidOf = (d: Daemon) => d.pid;

async function measure(kind: 'bgpd' | 'bird2' | 'gobgp', n: number, sender: Netns, rx: Netns, dir: string, senderConf: string): Promise<Result> {
  let daemon: Daemon;
  let count: () => Promise<number>;
  let note = '';
  const sock = join(dir, `${kind}.ctl`);
  if (kind === 'bgpd') {
    writeFileSync(join(dir, 'bgpd.yaml'), `routerId: 10.210.0.2\nasNumber: 65002\nlisten: { address: 10.210.0.2, port: 179 }\npeers:\n  - { address: 10.210.0.1, asNumber: 65001, holdTime: 90 }\nkernel: { enabled: false }\n`);
    daemon = startInNetns(rx, [process.execPath, ...(process.env['BENCH_BGPD_NODE_FLAGS']?.split(' ').filter(Boolean) ?? []), BGPD, '--config', join(dir, 'bgpd.yaml'), '--socket', sock, '--log-level', 'warn']);
    await eventually(async () => (await request(sock, { cmd: 'status' })) as PeerStatus[], 10_000, 'bgpd control socket');
    count = async () => ((await request(sock, { cmd: 'stats' })) as SpeakerStats).prefixes;
  } else if (kind === 'bird2') {
    writeFileSync(join(dir, 'rx-bird.conf'), `router id 10.210.0.2;\nprotocol device {}\nprotocol bgp from_sender { local 10.210.0.2 as 65002; neighbor 10.210.0.1 as 65001; hold time 90; ipv4 { import all; export none; }; }\n`);
    daemon = startInNetns(rx, ['bird', '-f', '-c', join(dir, 'rx-bird.conf'), '-s', sock]);
    count = async () => {
      const out = spawnSync('birdc', ['-s', sock, 'show', 'route', 'count'], { encoding: 'utf8' }).stdout;
      const m = /(\d+) of \d+ routes/.exec(out);
      return m ? Number(m[1]) : 0;
    };
  } else {
    writeFileSync(join(dir, 'gobgpd.toml'), `[global.config]\n  as = 65002\n  router-id = "10.210.0.2"\n  port = 179\n  local-address-list = ["10.210.0.2"]\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "10.210.0.1"\n    peer-as = 65001\n  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "ipv4-unicast"\n`);
    daemon = startInNetns(rx, ['gobgpd', '-f', join(dir, 'gobgpd.toml'), '--api-hosts', '127.0.0.1:50052', '-l', 'warn']);
    count = async () => {
      const out = rx.tryRun('gobgp', ['-u', '127.0.0.1', '-p', '50052', 'global', 'rib', 'summary', '-a', 'ipv4']).stdout;
      const m = /Destination: (\d+)/.exec(out);
      return m ? Number(m[1]) : 0;
    };
  }
  await new Promise((r) => setTimeout(r, 500));
  const birdDir = join(dir, 'sender');
  spawnSync('mkdir', ['-p', birdDir]);
  if (kind === 'bgpd') await request(sock, { cmd: 'stats-reset' });
  const t0 = Date.now();
  const bird = startBird(sender, birdDir, senderConf);
  try {
    await eventually(async () => (await count()) >= n, 600_000, `${kind} to receive ${n} prefixes`);
    const seconds = (Date.now() - t0) / 1000;
    const rss = peakRssMiB(pidOf(daemon));
    if (kind === 'bgpd') {
      const st = (await request(sock, { cmd: 'stats' })) as SpeakerStats;
      note = `worst event-loop delay ${st.eventLoopDelayMaxMs.toFixed(0)} ms (p99 ${st.eventLoopDelayP99Ms.toFixed(0)} ms)`;
    }
    if (process.env['BENCH_DUMP_OUTPUT']) writeFileSync(join(ROOT, `.tabby-run/bench-${kind}.out`), daemon.output());
    return { receiver: kind, n, seconds, peakRssMiB: rss, note };
  } finally {
    await bird.stop();
    await daemon.stop();
  }
}

async function main(): Promise<void> {
  // Interrupted runs still remove their namespaces and daemons (test-support cleans up on exit).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  const args = process.argv.slice(2);
  const only = args.find((a) => a.startsWith('--receivers='))?.slice('--receivers='.length).split(',');
  const record = !args.includes('--no-record');
  const sizes = args.map(Number).filter((x) => x > 0);
  const ns = sizes.length ? sizes : [100_000, 1_000_000];
  const dir = tmpDir('tabby-bench-');
  const sender = createNetns('bench-tx');
  const rx = createNetns('bench-rx');
  const results: Result[] = [];
  try {
    vethPair(sender, 'bn-tx', rx, 'bn-rx');
    sender.run('ip', ['addr', 'add', '10.210.0.1/24', 'dev', 'bn-tx']);
    rx.run('ip', ['addr', 'add', '10.210.0.2/24', 'dev', 'bn-rx']);
    for (const n of ns) {
      const conf = senderConfig(n);
      for (const kind of ['bird2', 'bgpd', 'gobgp'] as const) {
        if (only && !only.includes(kind)) continue;
        const r = await measure(kind, n, sender, rx, dir, conf);
        results.push(r);
        process.stdout.write(`${kind} n=${n}: ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB ${r.note}\n`);
      }
    }
  } finally {
    sender.delete();
    rx.delete();
    rmSync(dir, { recursive: true, force: true });
  }
  if (!record) return;
  const lines = [
    '',
    `## BGP ingest, ${new Date().toISOString().slice(0, 10)} (${process.version}, ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores)`,
    '',
    'A BIRD 2 sender announces N distinct IPv4 /24 prefixes with one attribute set; time is from',
    "starting the sender to the receiver holding all N; peak RSS is the receiver's VmHWM. Kernel",
    'export off for all receivers.',
    '',
    '| N | receiver | seconds | peak RSS (MiB) | note |',
    '|---|---|---|---|---|',
    ...results.map((r) => `| ${r.n} | ${r.receiver} | ${r.seconds.toFixed(1)} | ${r.peakRssMiB.toFixed(0)} | ${r.note} |`),
    '',
  ];
  appendFileSync(join(ROOT, 'bench/RESULTS.md'), lines.join('\n'));
}

await main();

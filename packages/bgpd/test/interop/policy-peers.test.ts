// Route refresh, communities and filters against FRR and GoBGP (policy.test.ts covers BIRD 2):
// communities and large communities as the peer reports them, an export-rejected prefix never
// reaching the peer, the peer's soft reset (a ROUTE-REFRESH to us) answered, and an import rule
// added and removed by SIGHUP applied through our refresh request without a session reset.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startInNetns, eventually, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';
import { BGPD, OUR_AS, createLab, type Lab } from './harness/lab.js';
import type { PeerDaemon, PeerKind } from './harness/peer.js';
import { frr } from './harness/frr.js';
import { gobgp } from './harness/gobgp.js';

const PEER_AS = 65001;

interface Kind {
  kind: PeerKind;
  tag: string;
  net: number;
  /** Makes the peer send us a ROUTE-REFRESH (undefined: its CLI cannot). */
  softResetIn?(lab: Lab): void;
  /** The peer's view of one prefix learned from us (empty when it has none). */
  show(lab: Lab, prefix: string): string;
  hasCommunities(out: string): boolean;
  /** Extra settings for our side of the session. */
  peerExtra?: string;
}

const vtysh = (lab: Lab, cmd: string) => {
  const r = spawnSync('vtysh', ['--vty_socket', join(lab.dir, 'frr'), '-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vtysh ${cmd}: ${r.stdout}${r.stderr}`);
  return r.stdout;
};
const gobgpCli = (lab: Lab, ...args: string[]) => lab.peerNs.run('gobgp', ['-u', '127.0.0.1', '-p', '50051', ...args]);

const KINDS: Kind[] = [
  {
    kind: frr, tag: 'pfr', net: 236,
    // FRR ignores a ROUTE-REFRESH request until it has sent End-of-RIB ("rcvd route-refresh
    // (REQUEST) ... before EoR"), and it sends End-of-RIB only to peers that advertised graceful
    // restart: without it FRR never answers our refresh requests.
    peerExtra: ', gracefulRestart: true',
    softResetIn: (lab) => void vtysh(lab, `clear bgp ipv4 unicast ${lab.addr.ipv4.ours} soft in`),
    show: (lab, prefix) => {
      const r = JSON.parse(vtysh(lab, `show bgp ipv4 unicast ${prefix} json`) || '{}') as { paths?: unknown[] };
      return r.paths?.length ? JSON.stringify(r.paths) : '';
    },
    // FRR: "community":{"string":"65000:100 no-export",...}, "largeCommunity":{"string":"65000:1:2",...}
    hasCommunities: (out) => /"community":\{[^}]*"string":"65000:100 no-export"/.test(out) && /"largeCommunity":\{[^}]*"string":"65000:1:2"/.test(out),
  },
  {
    kind: gobgp, tag: 'pgb', net: 237,
    // `gobgp neighbor X softresetin` re-applies GoBGP's import policy to its own Adj-RIB-In and
    // sends nothing, so GoBGP cannot be made to send us a ROUTE-REFRESH from its CLI.
    show: (lab, prefix) => {
      const out = gobgpCli(lab, 'global', 'rib', '-a', 'ipv4', prefix);
      return out.includes(prefix) ? out : '';
    },
    // GoBGP: [{Communities: 65000:100, NO_EXPORT} {LargeCommunity: [ 65000:1:2]}]
    hasCommunities: (out) => /Communities: 65000:100, no-export/i.test(out) && /LargeCommunity: \[ ?65000:1:2\]/.test(out),
  },
];

const bgpdConfig = (lab: Lab, importReject: string[], extra = '') => [
  `routerId: ${lab.routerId.ours}`,
  `asNumber: ${OUR_AS}`,
  'listen: { address: "0.0.0.0", port: 179 }',
  'filters:',
  '  f:',
  '    exportV4: [{ action: Reject, cidr: "10.244.3.0/26", matchOperator: Equal }]',
  `    importV4: [${importReject.map((c) => `{ action: Reject, cidr: "${c}", matchOperator: Equal }`).join(', ')}]`,
  'peers:',
  `  - { address: "${lab.addr.ipv4.peer}", asNumber: ${PEER_AS}, holdTime: 6, connectRetryTime: 1, type: global, filters: [f]${extra} }`,
  'originate:',
  '  - { prefix: 10.244.1.0/26, communities: ["65000:100", no-export, "65000:1:2"] }',
  '  - { prefix: 10.244.2.0/26 }',
  '  - { prefix: 10.244.3.0/26 }',
  'kernel: { enabled: false }',
].join('\n') + '\n';

for (const k of KINDS) {
  describe(`bgpd <-> ${k.kind.name}: route refresh, communities, filters (netns)`, function () {
    this.timeout(90_000);
    let lab: Lab, peer: PeerDaemon | undefined, bgpd: Daemon | undefined, cfgFile: string, sock: string;

    const status = async () => ((await request(sock, { cmd: 'status' })) as PeerStatus[])[0];
    const learned = async () => ((await request(sock, { cmd: 'routes' })) as { prefix: string; from: string }[]).filter((r) => r.from !== 'local').map((r) => r.prefix).sort();
    const reload = (importReject: string[]) => {
      writeFileSync(cfgFile, bgpdConfig(lab, importReject, k.peerExtra));
      bgpd!.signal('SIGHUP');
    };

    before(async () => {
      lab = await createLab(k.tag, k.net);
      cfgFile = join(lab.dir, 'bgpd.yaml');
      sock = join(lab.dir, 'bgpd.ctl');
      try {
        peer = await k.kind.start(lab, { type: 'ebgp', peerAs: PEER_AS, ourAs: OUR_AS, routes: { ipv4: ['10.77.0.0/24', '10.78.0.0/24'], ipv6: [] } });
        writeFileSync(cfgFile, bgpdConfig(lab, [], k.peerExtra));
        bgpd = startInNetns(lab.ourNs, [process.execPath, BGPD, '--config', cfgFile, '--socket', sock]);
        await eventually(async () => (await status())?.state === 'up', 30_000, 'session up');
        await eventually(async () => (await learned()).length === 2, 15_000, 'routes from the peer');
      } catch (e) {
        throw new Error(`${(e as Error).message}\nbgpd: ${bgpd?.output()}\npeer: ${peer?.output()}`);
      }
    });

    afterEach(function () {
      if (this.currentTest?.state === 'failed') console.log(`bgpd output:\n${bgpd?.output()}\npeer output:\n${peer?.output()}\n${k.kind === frr ? vtysh(lab, `show bgp neighbors ${lab.addr.ipv4.ours}`) : ''}`);
    });

    after(async () => {
      await bgpd?.stop();
      await peer?.stop();
      lab?.destroy();
    });

    it('the peer sees the communities and large community of an originated prefix, and not the export-rejected prefix', async () => {
      await eventually(() => k.show(lab, '10.244.1.0/26') !== '', 15_000, 'prefix at the peer');
      await eventually(() => k.show(lab, '10.244.2.0/26') !== '', 15_000, 'second prefix at the peer');
      const out = k.show(lab, '10.244.1.0/26');
      expect(k.hasCommunities(out), out).to.equal(true);
      expect(k.hasCommunities(k.show(lab, '10.244.2.0/26'))).to.equal(false);
      expect(k.show(lab, '10.244.3.0/26')).to.equal('');
    });

    it("answers the peer's soft reset in (a ROUTE-REFRESH) without resetting the session", async function () {
      if (!k.softResetIn) return this.skip();
      const since = (await status())!.since;
      k.softResetIn(lab);
      await eventually(() => bgpd!.output().includes('peer asked for a route refresh'), 10_000, `refresh received; bgpd said: ${bgpd!.output()}`);
      await new Promise((r) => setTimeout(r, 500));
      expect(k.show(lab, '10.244.1.0/26')).to.not.equal('');
      expect((await status())!.since).to.equal(since);
    });

    it('an import rule added and removed by SIGHUP applies through a route refresh, without a session reset', async () => {
      const since = (await status())!.since;
      reload(['10.78.0.0/24']);
      await eventually(async () => JSON.stringify(await learned()) === JSON.stringify(['10.77.0.0/24']), 10_000, '10.78.0.0/24 filtered out');
      reload([]);
      await eventually(async () => (await learned()).length === 2, 10_000, `10.78.0.0/24 back after our refresh request; bgpd said: ${bgpd!.output()}`);
      expect((await status())!.since).to.equal(since);
    });
  });
}

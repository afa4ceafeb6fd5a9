// Wireshark's BGP dissector as an independent decoder of what we send: our sessions with BIRD 2
// and GoBGP (an IPv4 and an IPv6 session each, graceful restart and every capability we offer)
// are captured with tcpdump inside our namespace while routes are announced and withdrawn both
// ways and bgpd drops the peers; tshark must find no malformed packet and no expert error, and must
// decode the message types we expect from us (OPEN with the GR capability, UPDATEs with
// MP_REACH/MP_UNREACH, withdrawals, End-of-RIB, KEEPALIVE, the Cease NOTIFICATION).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, startInNetns, type Daemon } from '@tabby/test-support';
import { request, type PeerStatus } from '@tabby/bgpd';
import { BGPD, createLab, kernelRoutes, type Afi, type Lab } from './harness/lab.js';
import { bird2 } from './harness/bird.js';
import { gobgp } from './harness/gobgp.js';
import type { PeerDaemon, PeerKind } from './harness/peer.js';

const OUR_AS = 65002;

function tshark(args: string[]): string {
  const r = spawnSync('tshark', ['-n', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** One line per packet: the fields in order, each possibly a comma-separated list (several BGP messages per segment). */
function fields(cap: string, filter: string, names: string[]): string[][][] {
  const out = tshark(['-r', cap, '-Y', filter, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...names.flatMap((n) => ['-e', n])]);
  return out.split('\n').filter((l) => l.trim()).map((l) => l.split('\t').map((f) => (f ? f.split(',') : [])));
}

for (const [kind, net] of [[bird2, 232], [gobgp, 233]] as [PeerKind, number][]) {
  describe(`bgpd <-> ${kind.name}: tshark decodes a capture of our sessions without errors (netns)`, function () {
    this.timeout(90_000);
    let lab: Lab, peer: PeerDaemon | undefined, bgpd: Daemon | undefined, dump: Daemon | undefined;
    let cap = '';
    const peerAs = 65100 + net;
    const peerRoutes = { ipv4: [`10.${net}.1.0/24`, `10.${net}.2.0/24`], ipv6: [`fd00:${net}:1::/64`, `fd00:${net}:2::/64`] };
    let ourRoutes = [`10.244.${net - 200}.0/26`, `10.244.${net - 200}.64/26`, `fd00:244:${net}:1::/64`, `fd00:244:${net}:2::/64`];
    const sock = () => join(lab.dir, 'bgpd.ctl');
    const cfg = () => join(lab.dir, 'bgpd.yaml');
    const writeConfig = (peers = true) => writeFileSync(cfg(), `routerId: ${lab.routerId.ours}
asNumber: ${OUR_AS}
listen: { address: "::", port: 179 }
peers:${peers ? '' : ' []'}
${(peers ? ['ipv4', 'ipv6'] as Afi[] : []).map((afi) => `  - { address: "${lab.addr[afi].peer}", asNumber: ${peerAs}, holdTime: 3, connectRetryTime: 1, gracefulRestart: { enabled: true, restartTime: 30 }, addPaths: true }`).join('\n')}
originate:
${ourRoutes.map((p) => `  - { prefix: "${p}" }`).join('\n')}
kernel: { enabled: true, protocol: 201 }
`);
    const why = () => `\n--- bgpd:\n${bgpd?.output().slice(-3000)}\n--- ${kind.name}:\n${peer?.output().slice(-2000)}\n--- tcpdump:\n${dump?.output()}`;

    before(async () => {
      lab = await createLab(`ts${net}`, net);
      cap = join(lab.dir, 'bgp.pcap');
      dump = startInNetns(lab.ourNs, ['tcpdump', '-i', lab.ourIf, '--immediate-mode', '-U', '-s', '0', '-w', cap, 'tcp port 179']);
      await eventually(() => /listening on/.test(dump!.output()), 10_000, `tcpdump listening: ${dump.output()}`);
      peer = await kind.start(lab, { type: 'ebgp', peerAs, ourAs: OUR_AS, routes: peerRoutes });
      writeConfig();
      bgpd = startInNetns(lab.ourNs, [process.execPath, BGPD, '--config', cfg(), '--socket', sock()]);
    });

    after(async () => {
      await bgpd?.stop();
      await peer?.stop();
      await dump?.stop();
      lab?.destroy();
    });

    it('runs the scenario: sessions up, routes both ways, withdrawals both ways, shutdown with a NOTIFICATION', async () => {
      try {
        for (const afi of ['ipv4', 'ipv6'] as Afi[]) {
          await eventually(() => peer!.established(afi), 30_000, `${afi} session on ${kind.name}`);
          await eventually(() => kernelRoutes(lab.ourNs, afi).length === 2, 10_000, `${kind.name}'s ${afi} routes in our kernel`);
        }
        for (const p of ourRoutes) await eventually(() => peer!.learned(p.includes(':') ? 'ipv6' : 'ipv4', p), 10_000, `${kind.name} learned ${p}`);
        // Withdrawals both ways, in both families.
        await peer!.announce('ipv4', peerRoutes.ipv4.slice(0, 1));
        await peer!.announce('ipv6', peerRoutes.ipv6.slice(0, 1));
        ourRoutes = [ourRoutes[0]!, ourRoutes[2]!];
        writeConfig();
        bgpd!.signal('SIGHUP');
        for (const afi of ['ipv4', 'ipv6'] as Afi[]) await eventually(() => kernelRoutes(lab.ourNs, afi).length === 1, 10_000, `${afi} withdrawal in our kernel`);
        await eventually(() => !peer!.learned('ipv4', `10.244.${net - 200}.64/26`) && !peer!.learned('ipv6', `fd00:244:${net}:2::/64`), 10_000, `${kind.name} saw our withdrawals`);
        // A few KEEPALIVEs (every second with hold time 3), then shutdown.
        await new Promise((r) => setTimeout(r, 1500));
        const st = (await request(sock(), { cmd: 'status' })) as PeerStatus[];
        expect(st.map((s) => s.state)).to.deep.equal(['up', 'up']);
        // With graceful restart a SIGTERM closes without a NOTIFICATION (the peer keeps our
        // routes); removing the peers from the config sends Cease (peer de-configured).
        writeConfig(false);
        bgpd!.signal('SIGHUP');
        for (const afi of ['ipv4', 'ipv6'] as Afi[]) await eventually(() => !peer!.established(afi), 10_000, `${kind.name}'s ${afi} session closed`);
        await bgpd!.stop();
        // Immediate mode hands tcpdump every packet at once (otherwise the last buffer block,
        // up to a second of traffic, is lost when it is stopped); still give it a moment.
        await new Promise((r) => setTimeout(r, 1000));
      } catch (e) {
        throw new Error(`${(e as Error).message}${why()}`);
      }
      await dump!.stop();
    });

    it('tshark reports no malformed packets and no expert errors', () => {
      const bad = tshark(['-r', cap, '-Y', '_ws.malformed || _ws.expert.severity == error']);
      expect(bad.trim(), 'packets tshark flags').to.equal('');
      // The filter must be able to see something: the capture is not empty.
      expect(tshark(['-r', cap]).trim().split('\n').length).to.be.greaterThan(10);
    });

    it('tshark decodes the messages we expect from us', () => {
      const ours = (afi: Afi) => `${afi === 'ipv4' ? 'ip.src' : 'ipv6.src'} == ${lab.addr[afi].ours}`;
      for (const afi of ['ipv4', 'ipv6'] as Afi[]) {
        const rows = fields(cap, `bgp && ${ours(afi)}`, ['bgp.type', 'bgp.length', 'bgp.cap.type', 'bgp.update.path_attribute.type_code', 'bgp.update.withdrawn_routes.length', 'bgp.notify.major_error']);
        const types = rows.flatMap((r) => r[0]!.map(Number));
        const count = (t: number) => types.filter((x) => x === t).length;
        const what = `${afi}: types ${JSON.stringify(types)}`;
        expect(count(1), `one OPEN (${what})`).to.equal(1);
        expect(count(2), `UPDATEs (${what})`).to.be.greaterThanOrEqual(3);
        expect(count(4), `KEEPALIVEs (${what})`).to.be.greaterThanOrEqual(2);
        expect(count(3), `one NOTIFICATION (${what})`).to.equal(1);
        const caps = rows.flatMap((r) => r[2]!.map(Number));
        // multiprotocol, route refresh, extended message, graceful restart, 4-octet AS, ADD-PATH
        // (offered; neither peer is configured for it), enhanced route refresh
        for (const c of [1, 2, 6, 64, 65, 69, 70]) expect(caps, `capability ${c} in our OPEN (${afi})`).to.include(c);
        const attrTypes = rows.flatMap((r) => r[3]!.map(Number));
        const notify = rows.flatMap((r) => r[5]!.map(Number));
        expect(notify, `Cease on shutdown (${afi})`).to.deep.equal([6]);
        if (afi === 'ipv4') {
          expect(attrTypes, 'ORIGIN, AS_PATH, NEXT_HOP').to.include.members([1, 2, 3]);
          const withdrawn = rows.flatMap((r) => r[4]!.map(Number));
          expect(withdrawn.filter((n) => n > 0).length, 'an IPv4 withdrawal').to.be.greaterThanOrEqual(1);
          // End-of-RIB for IPv4 unicast: an UPDATE with nothing in it (23 bytes).
          const eor = rows.filter((r) => r[0]!.some((t, i) => t === '2' && r[1]![i] === '23'));
          expect(eor.length, 'IPv4 End-of-RIB').to.be.greaterThanOrEqual(1);
        } else {
          expect(attrTypes, 'MP_REACH_NLRI and MP_UNREACH_NLRI').to.include.members([14, 15]);
          // End-of-RIB for IPv6 unicast: an UPDATE whose only attribute is an empty MP_UNREACH_NLRI
          // (29 bytes, or 30 with the extended-length flag).
          const eor = rows.filter((r) => r[0]!.some((t, i) => t === '2' && ['29', '30'].includes(r[1]![i]!)));
          expect(eor.length, `IPv6 End-of-RIB (${JSON.stringify(rows)})`).to.be.greaterThanOrEqual(1);
        }
      }
      // The peer's messages decode too (both directions are in the capture).
      const theirs = fields(cap, `bgp && (ip.src == ${lab.addr.ipv4.peer} || ipv6.src == ${lab.addr.ipv6.peer})`, ['bgp.type']).flatMap((r) => r[0]!.map(Number));
      // Two sessions; after our Cease the peer may try again before bgpd stops (another OPEN).
      expect(theirs.filter((t) => t === 1).length, `OPENs from ${kind.name}`).to.be.greaterThanOrEqual(2);
      expect(theirs.filter((t) => t === 2).length, `UPDATEs from ${kind.name}`).to.be.greaterThanOrEqual(4);
    });
  });
}

// The interop matrix as data: for one peer daemon, an iBGP and an eBGP group; in each group an
// IPv4 and an IPv6 session run side by side over one veth, and every row below is checked per
// family: session, routes both ways (on the peer and in our kernel), withdraws both ways, a
// killed peer, a frozen peer (our hold timer), and our own restart. One namespace pair per peer
// daemon; the daemons are restarted between the two groups.

import { expect } from 'chai';
import { eventually } from '@tabby/test-support';
import { HOLD_TIME, OUR_AS, OurBgpd, createLab, kernelRoutes, signalAll, type Afi, type Lab, type SessionType } from './lab.js';
import type { PeerDaemon, PeerKind } from './peer.js';

const SESSION_TYPES: readonly SessionType[] = ['ibgp', 'ebgp'];
const label = (t: SessionType) => (t === 'ibgp' ? 'iBGP' : 'eBGP');
/** Generous bounds for `eventually`: sessions may wait out an error-wait / idle-hold backoff. */
const SESSION_MS = 30_000;
const ROUTE_MS = 10_000;

export function describeMatrix(kind: PeerKind): void {
  describe(`bgpd <-> ${kind.name}: interop matrix (netns)`, function () {
    this.timeout(60_000);
    let lab: Lab;
    before(async () => {
      lab = await createLab(kind.tag, kind.net);
    });
    after(() => lab?.destroy());

    for (const type of SESSION_TYPES) describeGroup(kind, type, () => lab);
  });
}

function describeGroup(kind: PeerKind, type: SessionType, getLab: () => Lab): void {
  const peerAs = type === 'ibgp' ? OUR_AS : 65000 + kind.net;
  const g = type === 'ibgp' ? 1 : 2;
  // Distinct prefixes per group, so nothing left over from the other group can satisfy a check.
  const peerPrefix = (afi: Afi, n: number) => (afi === 'ipv4' ? `10.${kind.net}.${g * 10 + n}.0/24` : `fd00:${kind.net}:${g * 10 + n}::/64`);
  const ourPrefix = (afi: Afi, n: number) => (afi === 'ipv4' ? `10.244.${g * 10 + n}.0/26` : `fd00:244:${g * 10 + n}::/64`);
  const families = kind.families;

  describe(`${label(type)} (${families.join(' + ')} sessions side by side)`, function () {
    let lab: Lab;
    let peer: PeerDaemon | undefined;
    let ours: OurBgpd | undefined;
    // What each side should currently originate; every check compares against these.
    const peerRoutes: Record<Afi, string[]> = { ipv4: [], ipv6: [] };
    const ourRoutes: Record<Afi, string[]> = { ipv4: [], ipv6: [] };
    const ourWithdrawn: Record<Afi, string[]> = { ipv4: [], ipv6: [] };

    const why = () => `\n--- bgpd:\n${ours?.output().slice(-3000)}\n--- ${kind.name}:\n${peer?.output().slice(-3000)}`;

    const kernelMatches = (afi: Afi) => {
      const routes = kernelRoutes(lab.ourNs, afi);
      expect(routes.map((r) => r.dst).sort(), `${afi} prefixes in our kernel (proto 201)`).to.deep.equal([...peerRoutes[afi]].sort());
      for (const r of routes) {
        expect(r.gateway, `gateway of ${r.dst}`).to.equal(lab.addr[afi].peer);
        expect(r.dev, `device of ${r.dst}`).to.equal(lab.ourIf);
      }
    };

    const peerMatches = (afi: Afi) => {
      for (const prefix of ourRoutes[afi]) {
        const r = peer!.learned(afi, prefix);
        expect(r, `${kind.name} has ${prefix} from us`).to.not.equal(undefined);
        expect(r!.asPath, `AS_PATH of ${prefix} at the peer`).to.deep.equal(type === 'ibgp' ? [] : [OUR_AS]);
        expect(r!.nextHop, `next hop of ${prefix} at the peer`).to.equal(lab.addr[afi].ours);
        if (type === 'ibgp') expect(r!.localPref, `LOCAL_PREF of ${prefix} at the peer`).to.equal(100);
        expect(r!.usable, `${prefix} usable at the peer`).to.equal(true);
      }
      for (const prefix of ourWithdrawn[afi]) expect(peer!.learned(afi, prefix), `${prefix} withdrawn at the peer`).to.equal(undefined);
    };

    const check = (f: () => void) => () => {
      f();
      return true;
    };

    const bothUp = async (afi: Afi) => (await ours!.up(lab.addr[afi].peer)) && peer!.established(afi);

    /** Sessions up on both sides, routes both ways, for every family. */
    const converged = async (what: string) => {
      for (const afi of families) {
        await eventually(() => bothUp(afi), SESSION_MS, `${what}: ${afi} session up on both sides${why()}`);
        await eventually(check(() => kernelMatches(afi)), ROUTE_MS, `${what}: ${afi} routes from ${kind.name} in our kernel`);
        await eventually(check(() => peerMatches(afi)), ROUTE_MS, `${what}: ${afi} routes from us at ${kind.name}`);
      }
    };

    before(async () => {
      lab = getLab();
      for (const afi of families) {
        peerRoutes[afi] = [peerPrefix(afi, 1)];
        ourRoutes[afi] = [ourPrefix(afi, 1)];
        ourWithdrawn[afi] = [];
      }
      peer = await kind.start(lab, { type, peerAs, ourAs: OUR_AS, routes: { ...peerRoutes } });
      ours = new OurBgpd(lab, families.map((afi) => ({ address: lab.addr[afi].peer, asNumber: peerAs })), type);
      ours.start(families.flatMap((afi) => ourRoutes[afi]));
    });

    after(async () => {
      await ours?.stop();
      await peer?.stop();
    });

    for (const afi of families) {
      it(`${afi}: the session is Established on both sides`, async () => {
        await eventually(() => bothUp(afi), SESSION_MS, `${afi} session up on both sides${why()}`);
      });

      const ll = afi === 'ipv6' && kind.linkLocalNextHop.includes(type) ? ' (it sends global + link-local next hops: the global one is used)' : '';
      it(`${afi}: the peer's route is in our kernel via its address on the veth${ll}`, async () => {
        await eventually(check(() => {
          if (ll) {
            // The peer must really send the link-local next hop, or this row proves nothing.
            const sent = peer!.advertisedNextHops?.(afi);
            expect(sent, `${kind.name} reports the next hops it sends`).to.not.equal(undefined);
            expect(sent![1], `link-local next hop sent by ${kind.name}`).to.match(/^fe80:/);
          }
          kernelMatches(afi);
        }), ROUTE_MS, `${afi} route from ${kind.name} in our kernel${why()}`);
      });

      const attrs = type === 'ibgp' ? 'an empty AS_PATH, LOCAL_PREF 100' : `AS_PATH ${OUR_AS}`;
      it(`${afi}: the peer learns our prefix with ${attrs} and our address as next hop`, async () => {
        await eventually(check(() => peerMatches(afi)), ROUTE_MS, `${afi} route from us at ${kind.name}${why()}`);
      });

      it(`${afi}: the peer's withdraw and new announcement are followed in our kernel`, async () => {
        peerRoutes[afi] = [peerPrefix(afi, 2)];
        await peer!.announce(afi, peerRoutes[afi]);
        await eventually(check(() => kernelMatches(afi)), ROUTE_MS, `${afi} kernel follows ${kind.name}'s change${why()}`);
      });

      it(`${afi}: our withdraw and new prefix (SIGHUP reload) reach the peer`, async () => {
        ourWithdrawn[afi] = ourRoutes[afi];
        ourRoutes[afi] = [ourPrefix(afi, 2)];
        ours!.originate(families.flatMap((a) => ourRoutes[a]));
        await eventually(check(() => peerMatches(afi)), ROUTE_MS, `${afi} change from us at ${kind.name}${why()}`);
      });
    }

    it('a killed peer: its routes leave our kernel; restarted, sessions and routes return both ways', async () => {
      await peer!.kill();
      for (const afi of families) {
        await eventually(async () => !(await ours!.up(lab.addr[afi].peer)), SESSION_MS, `${afi} session down at bgpd${why()}`);
        await eventually(() => kernelRoutes(lab.ourNs, afi).length === 0, ROUTE_MS, `${afi} routes of the dead peer removed`);
      }
      await peer!.restart();
      await converged('after the peer restarted');
    });

    it(`a frozen peer (SIGSTOP): our ${HOLD_TIME} s hold timer expires and its routes leave our kernel; SIGCONT recovers`, async () => {
      // All sessions must be fresh (keepalives flowing) before the freeze, so expiry is bounded.
      await converged('before the freeze');
      signalAll(peer!.processes(), 'SIGSTOP');
      try {
        for (const afi of families) {
          const addr = lab.addr[afi].peer;
          // Bounded by the hold time plus scheduling slack, not by a fixed sleep.
          await eventually(async () => /hold timer expired/i.test((await ours!.status(addr))?.info ?? ''), (HOLD_TIME + 3) * 1000, `${afi}: hold timer expiry at bgpd${why()}`);
          await eventually(() => kernelRoutes(lab.ourNs, afi).length === 0, ROUTE_MS, `${afi} routes of the frozen peer removed`);
        }
      } finally {
        signalAll(peer!.processes(), 'SIGCONT');
      }
      await converged('after SIGCONT');
    });

    it('bgpd restarted: the peer sees the sessions down and our routes withdrawn; started again, everything returns', async () => {
      await converged('before the restart');
      await ours!.stop();
      // bgpd removes its kernel routes before it exits.
      for (const afi of families) expect(kernelRoutes(lab.ourNs, afi), `${afi} routes left after SIGTERM`).to.deep.equal([]);
      for (const afi of families) {
        await eventually(() => !peer!.established(afi), SESSION_MS, `${afi} session down at ${kind.name}${why()}`);
        await eventually(() => ourRoutes[afi].every((p) => peer!.learned(afi, p) === undefined), ROUTE_MS, `${afi} our routes withdrawn at ${kind.name}`);
      }
      ours!.start();
      await converged('after bgpd restarted');
    });
  });
}

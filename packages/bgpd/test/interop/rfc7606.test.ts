// RFC 7606 seen from a real router: a scripted peer (crafted bytes, relayed into our namespace)
// sends bgpd routes that bgpd passes on to BIRD 2; then it sends malformed attributes for some
// of them. Treat-as-withdraw must withdraw the prefix from BIRD too, attribute-discard must keep
// the route on BIRD without the bad attribute, and both sessions stay Established, with no
// NOTIFICATION to the scripted peer. (malformed.test.ts checks bgpd's own RIB on loopback.)
import { expect } from 'chai';
import { connect } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, startBird, startInNetns, type Bird, type Daemon } from '@tabby/test-support';
import { decodeNotification, encodeKeepalive, encodeOpen, request, type PeerStatus } from '@tabby/bgpd';
import { BGPD, createLab, type Lab } from './harness/lab.js';
import { ScriptedPeer } from '../daemon/scripted-peer.js';

const RELAY = fileURLToPath(new URL('./relay.js', import.meta.url));
const NET = 238;
const OUR_AS = 65002, BIRD_AS = 65238, SCRIPTED_AS = 65004;
const SCRIPTED = '127.0.0.4';
const MARKER = 'ffffffffffffffffffffffffffffffff';
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');


const update = (body: string) => {
  const b = hex(body);
  const len = 19 + b.length;
  return Buffer.concat([hex(MARKER), Buffer.from([len >> 8, len & 0xff, 2]), b]);
};
const ORIGIN = '40 01 01 00', ASPATH = `40 02 06 02 01 ${SCRIPTED_AS.toString(16).padStart(8, '0')}`, NEXTHOP = '40 03 04 7f000004';
const attrs = (a: string, nlri: string) => { const x = hex(a); return update(`0000 ${x.length.toString(16).padStart(4, '0')} ${a} ${nlri}`); };
const nlri = (third: number) => `18 0a ${NET.toString(16)} ${third.toString(16).padStart(2, '0')}`;
const prefix = (third: number) => `10.${NET}.${third}.0/24`;

describe('bgpd: RFC 7606 actions as BIRD 2 sees them (netns, scripted peer)', function () {
  this.timeout(60_000);
  let lab: Lab, bird: Bird | undefined, bgpd: Daemon | undefined, relay: Daemon | undefined, p: ScriptedPeer | undefined;
  const sock = () => join(lab.dir, 'bgpd.ctl');
  const status = async (addr: string) => ((await request(sock(), { cmd: 'status' })) as PeerStatus[]).find((x) => x.address === addr);
  const onBird = (third: number) => { const o = bird!.birdc('show', 'route', prefix(third), 'all'); return o.includes('[tabby ') ? o : undefined; };
  const why = () => `\n--- bgpd:\n${bgpd?.output().slice(-3000)}\n--- bird:\n${bird?.output().slice(-1000)}\n--- relay:\n${relay?.output()}`;
  const bothUp = async () => {
    expect((await status(SCRIPTED))?.state, 'scripted peer session').to.equal('up');
    expect((await status(lab.addr.ipv4.peer))?.state, 'BIRD session').to.equal('up');
    expect(/\bEstablished\b/.test(bird!.birdc('show', 'protocols', 'tabby')), 'BIRD says Established').to.equal(true);
    expect(p!.closed, 'scripted connection open').to.equal(false);
    expect(p!.frames.filter((f) => f.type === 3).map((f) => decodeNotification(f.bytes)), 'NOTIFICATIONs to the scripted peer').to.deep.equal([]);
  };

  before(async () => {
    lab = await createLab('r76', NET);
    lab.ourNs.run('ip', ['addr', 'add', `${SCRIPTED}/8`, 'dev', 'lo']);
    writeFileSync(join(lab.dir, 'bgpd.yaml'), `routerId: ${lab.routerId.ours}
asNumber: ${OUR_AS}
listen: { address: 0.0.0.0, port: 179 }
peers:
  - { address: ${lab.addr.ipv4.peer}, asNumber: ${BIRD_AS}, holdTime: 9, connectRetryTime: 1 }
  - { address: ${SCRIPTED}, asNumber: ${SCRIPTED_AS}, passive: true }
kernel: { enabled: false }
`);
    mkdirSync(join(lab.dir, 'bird'));
    bird = startBird(lab.peerNs, join(lab.dir, 'bird'), `router id ${lab.routerId.peer};
protocol device {}
protocol bgp tabby {
  local ${lab.addr.ipv4.peer} as ${BIRD_AS}; neighbor ${lab.addr.ipv4.ours} as ${OUR_AS};
  hold time 9; keepalive time 1; connect retry time 1; error wait time 1, 5;
  ipv4 { import all; export none; };
}
`);
    bgpd = startInNetns(lab.ourNs, [process.execPath, BGPD, '--config', join(lab.dir, 'bgpd.yaml'), '--socket', sock()]);
    relay = startInNetns(lab.ourNs, [process.execPath, RELAY, join(lab.dir, 'relay.sock'), '127.0.0.1', '179', SCRIPTED]);
    try {
      await eventually(() => relay!.output().includes('relay ready'), 10_000, 'relay');
      await eventually(async () => (await status(lab.addr.ipv4.peer))?.state === 'up', 30_000, 'BIRD session up');
      const s = connect(join(lab.dir, 'relay.sock'));
      await new Promise<void>((res, rej) => { s.once('connect', res); s.once('error', rej); });
      p = new ScriptedPeer(s);
      await p.next(1);
      p.send(encodeOpen({ myAs: SCRIPTED_AS, holdTime: 90, bgpId: '10.4.4.4', capabilities: [{ type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'four-octet-as', asn: SCRIPTED_AS }] }));
      p.send(encodeKeepalive());
      await p.next(4);
      for (const third of [1, 2, 3, 4, 9]) p.send(attrs(`${ORIGIN} ${ASPATH} ${NEXTHOP}`, nlri(third)));
      for (const third of [1, 2, 3, 4, 9]) await eventually(() => onBird(third), 10_000, `BIRD learns ${prefix(third)}`);
    } catch (e) {
      throw new Error(`${(e as Error).message}${why()}`);
    }
  });

  after(async () => {
    p?.sock.destroy();
    await relay?.stop();
    await bgpd?.stop();
    await bird?.stop();
    lab?.destroy();
  });

  const withdrawCases: [string, number, string][] = [
    ['an invalid ORIGIN value', 1, `40 01 01 07 ${ASPATH} ${NEXTHOP}`],
    ['a MED of the wrong length', 2, `${ORIGIN} ${ASPATH} ${NEXTHOP} 80 04 02 0064`],
    ['a missing NEXT_HOP', 3, `${ORIGIN} ${ASPATH}`],
    ['an AS_PATH segment overrunning the attribute', 4, `${ORIGIN} 40 02 06 02 03 ${SCRIPTED_AS.toString(16).padStart(8, '0')} ${NEXTHOP}`],
  ];
  for (const [name, third, a] of withdrawCases) {
    it(`${name}: BIRD sees ${prefix(third)} withdrawn, the sessions stay Established`, async () => {
      p!.send(attrs(a, nlri(third)));
      await eventually(() => !onBird(third), 10_000, `${prefix(third)} withdrawn on BIRD${why()}`);
      expect(onBird(9), 'an untouched route stays').to.be.a('string');
      await bothUp();
    });
  }

  it('a malformed ATOMIC_AGGREGATE is discarded: BIRD gets the route, without it', async () => {
    p!.send(attrs(`${ORIGIN} ${ASPATH} ${NEXTHOP} 40 06 02 0000`, nlri(5)));
    const out = await eventually(() => onBird(5), 10_000, `${prefix(5)} on BIRD${why()}`);
    expect(out).to.not.match(/atomic_aggr/i);
    await bothUp();
  });

  it('the session keeps working afterwards: a good UPDATE brings a withdrawn prefix back', async () => {
    p!.send(attrs(`${ORIGIN} ${ASPATH} ${NEXTHOP}`, nlri(1)));
    await eventually(() => onBird(1), 10_000, `${prefix(1)} back on BIRD`);
    await bothUp();
  });
});

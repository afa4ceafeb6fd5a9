// bgpd's interop matrix: BIRD 2, BIRD 1.6 (bird + bird6), GoBGP and FRR, each over iBGP and
// eBGP, IPv4 and IPv6 (the rows are in harness/matrix.ts, the peers in harness/*.ts). A
// link-local-only next hop (GoBGP over iBGP) is covered by test/daemon/link-local.test.ts.
import { describeMatrix } from './harness/matrix.js';
import { bird2, bird16 } from './harness/bird.js';
import { gobgp } from './harness/gobgp.js';
import { frr } from './harness/frr.js';

for (const peer of [bird2, bird16, gobgp, frr]) describeMatrix(peer);

// IPAM with the Kubernetes datastore: blocks, affinities and handles are crd.projectcalico.org
// custom resources and every write is a compare-and-swap on their resourceVersion. Several
// allocators (separate clients) on several nodes race against the Kubernetes API test server.
import { expect } from 'chai';
import { startKubeApiTestServer, type KubeApiTestServer } from '@tabby/test-support';
import { KubeDatastore } from '@tabby/datastore';
import { BlockAffinityIpam, checkIpam } from '@tabby/ipam';
import { addPool, expectConsistent } from './helpers.js';

describe('concurrent allocators on the Kubernetes datastore', function () {
  this.timeout(180_000);
  let kube: KubeApiTestServer;
  const clients: KubeDatastore[] = [];
  const client = () => {
    const c = new KubeDatastore({ kubeconfig: kube.kubeconfig });
    clients.push(c);
    return c;
  };

  before(async () => {
    kube = await startKubeApiTestServer();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await kube?.close();
  });

  it('6 allocators on 3 nodes never hand out the same address; releasing everything leaves no IPAM object', async () => {
    const setup = client();
    await addPool(setup, 'p', { cidr: '10.210.0.0/24', blockSize: 29 });
    // Nodes are Kubernetes Nodes here (registered by the kubelet, not by us).
    for (const n of ['n1', 'n2', 'n3']) kube.create('/api/v1/nodes', { metadata: { name: n } });
    const plan: [string, string][] = [['n1', 'a'], ['n1', 'b'], ['n1', 'c'], ['n2', 'd'], ['n2', 'e'], ['n3', 'f']];
    const results = await Promise.all(plan.map(async ([host, tag]) => {
      const ipam = new BlockAffinityIpam(client());
      const held = new Map<string, string>();
      for (let i = 0; i < 8; i++) {
        const handle = `net.${tag}-${i}`;
        const r = await ipam.autoAssign({ num4: 1, num6: 0, handleID: handle, hostname: host, attrs: { namespace: 'ns', pod: `${tag}-${i}` } });
        held.set(handle, r.ipv4[0]!.address);
      }
      return held;
    }));
    const all = results.flatMap((m) => [...m.values()]);
    expect(all).to.have.length(48);
    expect(new Set(all).size, 'duplicate addresses').to.equal(48);
    const { addresses } = await expectConsistent(setup);
    expect(addresses).to.equal(48);
    const report = await checkIpam(setup);
    expect(report.blocksWithoutAffinity).to.deep.equal([]);
    expect(report.leakedHandles).to.deep.equal([]);
    expect(kube.list('/apis/crd.projectcalico.org/v1/ipamblocks').every((b) => String(b['spec']['affinity']).startsWith('host:n'))).to.equal(true);
    expect(kube.list('/apis/crd.projectcalico.org/v1/ipamhandles')).to.have.length(48);

    await Promise.all(results.map((m) => {
      const mine = new BlockAffinityIpam(client());
      return Promise.all([...m.keys()].map((h) => mine.releaseByHandle(h)));
    }));
    expect(kube.list('/apis/crd.projectcalico.org/v1/ipamhandles')).to.deep.equal([]);
    const left = (await setup.list('IPAMBlock')).items.flatMap((b) => b.spec.allocations.filter((a) => a !== null));
    expect(left).to.deep.equal([]);
  });
});

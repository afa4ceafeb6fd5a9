// Shared fixtures for the etcd-backed IPAM tests.
import { expect } from 'chai';
import { API_VERSION, Issues, validateIPAMBlock, type IPAMBlock, type IPPool, type Labels } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import { ordinalsByHandle } from '@tabby/ipam';

export async function addPool(ds: Datastore, name: string, spec: IPPool['spec']): Promise<void> {
  await ds.create<IPPool>({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name }, spec });
}

export async function addNode(ds: Datastore, name: string, labels: Labels = {}): Promise<void> {
  await ds.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name, labels }, spec: {} });
}

export async function setConfig(ds: Datastore, spec: { strictAffinity: boolean; autoAllocateBlocks: boolean; maxBlocksPerHost?: number }): Promise<void> {
  await ds.create({ apiVersion: API_VERSION, kind: 'IPAMConfig', metadata: { name: 'default' }, spec });
}

/**
 * Everything IPAM stores agrees with itself: blocks validate (allocations/unallocated/attributes),
 * no address is handed out twice, handle counts equal block allocations, and every affine block
 * has a confirmed affinity and every affinity a block naming its node.
 */
export async function expectConsistent(ds: Datastore): Promise<{ blocks: IPAMBlock[]; addresses: number }> {
  const blocks = (await ds.list('IPAMBlock')).items;
  const affinities = (await ds.list('BlockAffinity')).items;
  const handles = (await ds.list('IPAMHandle')).items;
  let addresses = 0;
  const fromBlocks = new Map<string, Map<string, number>>();
  for (const b of blocks) {
    const issues = new Issues();
    validateIPAMBlock(b, issues);
    expect(issues.list, `block ${b.spec.cidr}`).to.deep.equal([]);
    for (const attr of b.spec.attributes) {
      const id = attr.handle_id!;
      const n = ordinalsByHandle(b.spec, id).length;
      expect(n, `attribute entry of ${id} in ${b.spec.cidr} is used`).to.be.greaterThan(0);
      const per = fromBlocks.get(id) ?? new Map<string, number>();
      per.set(b.spec.cidr, n);
      fromBlocks.set(id, per);
    }
    addresses += b.spec.allocations.filter((a) => a !== null).length;
    if (b.spec.affinity) {
      const node = b.spec.affinity.slice('host:'.length);
      const aff = affinities.find((a) => a.spec.node === node && a.spec.cidr === b.spec.cidr);
      expect(aff?.spec.state, `affinity of ${node} for ${b.spec.cidr}`).to.equal('confirmed');
    }
  }
  for (const a of affinities) {
    const b = blocks.find((x) => x.spec.cidr === a.spec.cidr);
    expect(b?.spec.affinity, `block of affinity ${a.metadata.name}`).to.equal(`host:${a.spec.node}`);
  }
  const fromHandles = new Map(handles.map((h) => [h.spec.handleID, new Map(Object.entries(h.spec.block))]));
  expect(fromHandles).to.deep.equal(fromBlocks);
  return { blocks, addresses };
}

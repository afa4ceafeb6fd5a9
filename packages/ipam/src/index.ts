// IPAM: Calico's block-affinity address management on the datastore.
export * from './contract.js';
export * from './errors.js';
export { BlockAffinityIpam, blockLimit, DEFAULT_MAX_BLOCKS_PER_HOST, type BlockAffinityIpamOptions } from './allocator.js';
export type { AffinityRelease } from './affinity.js';
export * from './block.js';
export * from './block-order.js';
export { findUsableInPool, blocksWithSpace } from './find-block.js';
export { choosePools, poolOf, poolsOf, poolContaining, selectsNode, type Pool, type PoolChoice } from './pools.js';
export { IpamStore, affinityName } from './store.js';
export * from './report.js';

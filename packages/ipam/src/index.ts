// IPAM: Calico's block-affinity address management on the datastore.
export * from './contract.js';

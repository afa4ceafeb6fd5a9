// IPAM: Calico's block-affinity address management on the datastore (filled in by issue 4).
export {};

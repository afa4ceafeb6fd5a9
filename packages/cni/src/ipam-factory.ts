// The one place the tabby-ipam plugin gets its Ipam from. Everything else in this package codes
// against the contract in @tabby/ipam only.

import type { Datastore } from '@tabby/datastore';
import { BlockAffinityIpam, type Ipam } from '@tabby/ipam';

export function createIpam(ds: Datastore): Ipam {
  return new BlockAffinityIpam(ds);
}

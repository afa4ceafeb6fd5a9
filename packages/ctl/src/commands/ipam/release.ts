// ipam release --ip=IP: frees one address in IPAM (not on any endpoint still using it).

import { BlockAffinityIpam, IpamError, parseAddress } from '@tabby/ipam';
import { CtlError } from '../../errors.js';
import type { Session } from '../../session.js';

export async function runIpamRelease(session: Session, opts: { ip?: string }): Promise<void> {
  if (opts.ip === undefined) throw new CtlError('ipam release: give the address to release with --ip=<IP>');
  try {
    parseAddress(opts.ip);
  } catch (e) {
    if (e instanceof IpamError) throw new CtlError(`invalid IP address specified: ${opts.ip}`);
    throw e;
  }
  const notAllocated = await new BlockAffinityIpam(await session.datastore()).releaseIPs([opts.ip]);
  if (notAllocated.length > 0) throw new CtlError(`IP address ${opts.ip} is not assigned`);
  session.io.out(`Successfully released IP address ${opts.ip}\n`);
}

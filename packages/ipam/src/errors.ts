// Typed IPAM failures. Messages follow libcalico-go's wording where it has one, so that logs
// and CLI output read the same as Calico's.

/** A request IPAM refuses: bad input, an address outside every pool, an address in use, ... */
export class IpamError extends Error {
  override name = 'IpamError';
}

/** Too many lost compare-and-swap races in a row (libcalico-go gives up after 100 as well). */
export class IpamRetryError extends IpamError {
  override name = 'IpamRetryError';
  constructor(what: string) {
    super(`Max retries hit - excessive concurrent IPAM requests (${what})`);
  }
}

/** The node already holds as many blocks as IPAMConfig / the request allows. */
export class BlockLimitError extends IpamError {
  override name = 'BlockLimitError';
  constructor(readonly limit: number) {
    super(`Need to allocate an IPAM block but could not - limit of ${limit} blocks reached for this node`);
  }
}

// ---- internal control flow (never escapes the package) -----------------------------------

/** Someone else holds the block this host tried to claim. */
export class BlockClaimConflict extends Error {
  override name = 'BlockClaimConflict';
  constructor(readonly cidr: string, readonly affinity: string | null | undefined) {
    super(`block ${cidr} is claimed by ${affinity ?? 'no host'}`);
  }
}

/** An affinity record whose block names another host (it has been deleted). */
export class StaleAffinity extends Error {
  override name = 'StaleAffinity';
  constructor(readonly host: string, readonly cidr: string) {
    super(`affinity of ${host} for ${cidr} is stale`);
  }
}

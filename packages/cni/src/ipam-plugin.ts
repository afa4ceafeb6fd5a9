// `tabby-ipam`, the IPAM plugin: addresses from Calico-style block IPAM under the handle
// `<network name>.<containerID>`. ADD for a handle that already holds addresses returns them
// (a retried ADD must not take a second address); DEL releases the handle and is idempotent.

import { cniHandleID } from '@tabby/api';
import { ConnectionError } from '@tabby/datastore';
import { IpamExhaustedError, type AllocationAttrs, type AutoAssignRequest, type Ipam } from '@tabby/ipam';
import { CniCode, CniError } from './errors.js';
import { createIpam } from './ipam-factory.js';
import { withIpamLock } from './ipam-lock.js';
import { parseResult, ipVersionOf, type Result } from './result.js';
import { nodenameOf, openDatastore } from './runtime.js';
import type { CallContext, PluginHandlers } from './skel.js';

function ipamError(what: string, e: unknown): CniError {
  if (e instanceof CniError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof ConnectionError) return new CniError(CniCode.tryAgainLater, `${what}: ${msg}`);
  if (e instanceof IpamExhaustedError) return new CniError(CniCode.ipamFailure, `${what}: ${msg}`);
  return new CniError(CniCode.ipamFailure, `${what}: ${msg}`);
}

/** How long a plugin run waits for another one's IPAM lock before it asks to be retried. */
const IPAM_LOCK_WAIT_MS = 60_000;

/** Runs `fn` against the IPAM of the configured datastore, holding the node's IPAM lock. */
async function withIpam<T>(ctx: CallContext, fn: (ipam: Ipam) => Promise<T>): Promise<T> {
  return withIpamLock(ctx.conf.ipamLockFile, IPAM_LOCK_WAIT_MS, ctx.log, async () => {
    const ds = openDatastore(ctx.conf);
    try {
      return await fn(createIpam(ds));
    } finally {
      await ds.close();
    }
  });
}

function hostPrefix(address: string): string {
  return `${address}/${ipVersionOf(address) === 4 ? 32 : 128}`;
}

export function assignRequest(ctx: CallContext, node: string): AutoAssignRequest {
  const { conf, env } = ctx;
  const attrs: AllocationAttrs = { node };
  const ns = env.args.get('K8S_POD_NAMESPACE');
  const pod = env.args.get('K8S_POD_NAME');
  if (ns) attrs.namespace = ns;
  if (pod) attrs.pod = pod;
  const req: AutoAssignRequest = {
    num4: conf.ipam.assignIpv4 ? 1 : 0,
    num6: conf.ipam.assignIpv6 ? 1 : 0,
    handleID: cniHandleID(conf.name, env.containerID),
    attrs,
    hostname: node,
  };
  if (conf.ipam.ipv4Pools) req.ipv4Pools = conf.ipam.ipv4Pools;
  if (conf.ipam.ipv6Pools) req.ipv6Pools = conf.ipam.ipv6Pools;
  return req;
}

export async function ipamAdd(ctx: CallContext): Promise<Result> {
  const { conf, log } = ctx;
  if (!conf.ipam.assignIpv4 && !conf.ipam.assignIpv6) {
    throw new CniError(CniCode.invalidNetworkConfig, 'network config: ipam.assign_ipv4 and ipam.assign_ipv6 are both false: nothing to assign');
  }
  const node = nodenameOf(conf);
  const req = assignRequest(ctx, node);
  const addresses = await withIpam(ctx, async (ipam) => {
    const existing = await ipam.ipsByHandle(req.handleID).catch((e: unknown) => { throw ipamError(`reading handle ${req.handleID}`, e); });
    if (existing.length) {
      log.info('handle already holds addresses; returning them', { handle: req.handleID, addresses: existing });
      return existing;
    }
    const r = await ipam.autoAssign(req).catch((e: unknown) => { throw ipamError(`assigning addresses on node ${node}`, e); });
    const got = [...r.ipv4, ...r.ipv6].map((a) => a.address);
    if (r.ipv4.length < req.num4 || r.ipv6.length < req.num6) {
      await ipam.releaseByHandle(req.handleID).catch(() => undefined);
      throw new CniError(CniCode.ipamFailure, `IPAM assigned ${r.ipv4.length} IPv4 and ${r.ipv6.length} IPv6 addresses, wanted ${req.num4} and ${req.num6}`);
    }
    log.info('assigned', { handle: req.handleID, addresses: got, node });
    return got;
  });
  return { cniVersion: conf.cniVersion, ips: addresses.map((a) => ({ address: hostPrefix(a) })) };
}

export async function ipamDel(ctx: CallContext): Promise<void> {
  const handle = cniHandleID(ctx.conf.name, ctx.env.containerID);
  const released = await withIpam(ctx, (ipam) => ipam.releaseByHandle(handle).catch((e: unknown) => { throw ipamError(`releasing handle ${handle}`, e); }));
  ctx.log.info(released.length ? 'released' : 'nothing to release', { handle, addresses: released });
}

export async function ipamCheck(ctx: CallContext): Promise<void> {
  const { conf } = ctx;
  if (!conf.prevResult) throw new CniError(CniCode.invalidNetworkConfig, 'network config: prevResult: is required for CHECK');
  const prev = parseResult(conf.prevResult, 'network config: prevResult', CniCode.invalidNetworkConfig);
  const handle = cniHandleID(conf.name, ctx.env.containerID);
  const held = await withIpam(ctx, (ipam) => ipam.ipsByHandle(handle).catch((e: unknown) => { throw ipamError(`reading handle ${handle}`, e); }));
  const missing = (prev.ips ?? []).map((ip) => ip.address.split('/')[0]!).filter((a) => !held.includes(a));
  if (missing.length) {
    throw new CniError(CniCode.checkFailed, `CHECK: ${missing.join(', ')} not allocated to handle ${handle} (it holds ${held.join(', ') || 'nothing'})`);
  }
}

export const tabbyIpamPlugin: PluginHandlers = { add: ipamAdd, del: ipamDel, check: ipamCheck };

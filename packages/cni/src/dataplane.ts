// The pod's veth as Calico's CNI plugin wires it: the host end (cali + hash, MAC
// ee:ee:ee:ee:ee:ee, proxy ARP, /32 route) in the namespace the plugin runs in, the other end
// (CNI_IFNAME, /32 and /128 addresses, routes via 169.254.1.1 and fe80::ecee:eeff:feee:eeee) in
// the container's namespace, entered by path with nsenter because runtimes hand us paths such
// as /proc/<pid>/ns/net that `ip netns` cannot name.

import { existsSync, writeFileSync } from 'node:fs';
import { exec as defaultExec, ExecError, ipBatch, ipJson, run, type Exec } from '@tabby/linux';
import { CniCode, CniError } from './errors.js';

export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
/** Never assigned anywhere: the host answers ARP for it through proxy_arp on the veth. */
export const IPV4_GATEWAY = '169.254.1.1';
/** The link-local address the kernel derives from ee:ee:ee:ee:ee:ee on the host end. */
export const IPV6_GATEWAY = 'fe80::ecee:eeff:feee:eeee';

export interface VethPlan {
  hostVeth: string;
  ifName: string;
  /** Path of the container's network namespace. */
  netns: string;
  mtu: number;
  /** Plain addresses (no prefix length). */
  ipv4: string[];
  ipv6: string[];
}

export interface DataplaneDeps {
  exec?: Exec;
  /** Where sysctls are written (default /proc/sys, i.e. the namespace the plugin runs in). */
  procSys?: string;
  /** Called for things worth a log line that do not fail the operation. */
  warn?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** Runs commands inside the namespace at `path` (nsenter keeps our mount namespace, so /proc/sys/net follows the netns). */
export function execInNetns(path: string, base: Exec = defaultExec): Exec {
  return (cmd, args, opts = {}) => {
    const { netns: _ignored, ...rest } = opts;
    return base('nsenter', [`--net=${path}`, '--', cmd, ...args], rest);
  };
}

function dataplaneError(msg: string, cause?: unknown): CniError {
  const detail = cause instanceof Error ? cause.message : cause === undefined ? '' : String(cause);
  return new CniError(CniCode.dataplaneFailure, msg, detail);
}

interface LinkJson { ifname: string; address?: string; mtu?: number; flags?: string[]; operstate?: string }
interface AddrJson { ifname: string; addr_info?: { family: string; local: string; prefixlen: number }[] }
interface RouteJson { dst: string; gateway?: string; dev?: string; scope?: string }

const isGone = (e: unknown) => e instanceof ExecError && /Cannot find device|does not exist/i.test(e.stderr);

async function linkInfo(exec: Exec, name: string): Promise<LinkJson | undefined> {
  try {
    const links = await ipJson<LinkJson[]>(['link', 'show', 'dev', name], { exec });
    return links[0];
  } catch (e) {
    if (isGone(e)) return undefined;
    throw e;
  }
}

/** Host-side sysctls (Calico's list); IPv6 ones only matter when the kernel has IPv6. */
function hostSysctls(plan: VethPlan): { key: string; value: string; optional: boolean }[] {
  const h = plan.hostVeth;
  const out = [
    { key: `net/ipv4/conf/${h}/route_localnet`, value: '1', optional: false },
    { key: `net/ipv4/neigh/${h}/proxy_delay`, value: '0', optional: true },
    { key: `net/ipv4/conf/${h}/proxy_arp`, value: '1', optional: false },
    { key: `net/ipv4/conf/${h}/forwarding`, value: '1', optional: false },
    // Router advertisements from a pod must never configure the host.
    { key: `net/ipv6/conf/${h}/accept_ra`, value: '0', optional: plan.ipv6.length === 0 },
  ];
  if (plan.ipv6.length) {
    out.push(
      { key: `net/ipv6/conf/${h}/disable_ipv6`, value: '0', optional: false },
      { key: `net/ipv6/conf/${h}/accept_dad`, value: '0', optional: false },
      { key: `net/ipv6/conf/${h}/proxy_ndp`, value: '1', optional: false },
      { key: `net/ipv6/conf/${h}/forwarding`, value: '1', optional: false },
    );
  }
  return out;
}

function writeSysctl(procSys: string, key: string, value: string): void {
  writeFileSync(`${procSys}/${key}`, value);
}

/** The pod-side commands, one `ip -batch` in the container namespace. */
export function podCommands(plan: VethPlan): string[][] {
  const i = plan.ifName;
  const cmds: string[][] = [['link', 'set', i, 'up']];
  for (const a of plan.ipv4) cmds.push(['addr', 'add', `${a}/32`, 'dev', i]);
  if (plan.ipv4.length) {
    cmds.push(['route', 'add', IPV4_GATEWAY, 'dev', i, 'scope', 'link']);
    cmds.push(['route', 'add', 'default', 'via', IPV4_GATEWAY, 'dev', i]);
  }
  // nodad: the address is usable at once; nothing else on this link can hold it.
  for (const a of plan.ipv6) cmds.push(['addr', 'add', `${a}/128`, 'dev', i, 'nodad']);
  if (plan.ipv6.length) cmds.push(['route', 'add', 'default', 'via', IPV6_GATEWAY, 'dev', i]);
  return cmds;
}

/** Adds `addr` -> host veth; an identical route already there is fine, one via another interface is not. */
async function addHostRoute(exec: Exec, hostVeth: string, addr: string, v6: boolean): Promise<void> {
  const dst = `${addr}/${v6 ? 128 : 32}`;
  const args = v6 ? ['-6', 'route', 'add', dst, 'dev', hostVeth] : ['route', 'add', dst, 'dev', hostVeth, 'scope', 'link'];
  const r = await exec('ip', args);
  if (r.code === 0) return;
  if (/File exists/.test(r.stderr)) {
    const existing = await ipJson<RouteJson[]>([...(v6 ? ['-6'] : []), 'route', 'show', 'exact', dst], { exec });
    const other = existing.find((x) => x.dev !== hostVeth);
    if (!other) return;
    throw dataplaneError(`route ${dst} already exists for an interface other than ${hostVeth}: ${other.dev ?? '?'}`);
  }
  throw dataplaneError(`adding host route ${dst} dev ${hostVeth} failed`, r.stderr.trim());
}

/** Whether the container namespace path can be used. */
export function netnsExists(path: string): boolean {
  return path !== '' && existsSync(path);
}

/**
 * Creates and configures the veth pair; returns the pod-side MAC. On failure the pair is
 * deleted again (removing its routes with it) and the error is thrown.
 */
export async function setupVeth(plan: VethPlan, deps: DataplaneDeps = {}): Promise<{ podMac: string }> {
  const exec = deps.exec ?? defaultExec;
  const pod = execInNetns(plan.netns, exec);
  const procSys = deps.procSys ?? '/proc/sys';
  if (!netnsExists(plan.netns)) throw new CniError(CniCode.unknownContainer, `container network namespace ${plan.netns} does not exist`);

  // A leftover from an earlier sandbox of the same pod would block the name; Calico replaces it too.
  if (await linkInfo(exec, plan.hostVeth)) {
    deps.warn?.('host-side veth already exists; replacing it', { hostVeth: plan.hostVeth });
    await removeHostVeth(plan.hostVeth, deps);
  }
  try {
    await run('ip', ['link', 'add', plan.hostVeth, 'address', HOST_VETH_MAC, 'mtu', String(plan.mtu), 'type', 'veth',
      'peer', 'name', plan.ifName, 'mtu', String(plan.mtu), 'netns', plan.netns], {}, exec);
  } catch (e) {
    throw dataplaneError(`creating veth ${plan.hostVeth} with peer ${plan.ifName} in ${plan.netns} failed`, e instanceof ExecError ? e.stderr.trim() : e);
  }
  try {
    for (const s of hostSysctls(plan)) {
      try {
        writeSysctl(procSys, s.key, s.value);
      } catch (e) {
        if (!s.optional) throw dataplaneError(`setting sysctl ${s.key.replace(/\//g, '.')}=${s.value} failed`, e);
        deps.warn?.('optional sysctl not set', { key: s.key, error: (e as Error).message });
      }
    }
    await run('ip', ['link', 'set', plan.hostVeth, 'up'], {}, exec);
    const failures = await ipBatch(podCommands(plan), { exec: pod });
    if (failures.length) {
      const f = failures[0]!;
      throw dataplaneError(`configuring ${plan.ifName} in ${plan.netns} failed at "ip ${f.command.join(' ')}"`, f.error);
    }
    const podLink = await linkInfo(pod, plan.ifName);
    if (!podLink?.address) throw dataplaneError(`${plan.ifName} in ${plan.netns} has no MAC address after creation`);
    // udev may rewrite a new link's MAC; Calico insists on its own.
    const host = await linkInfo(exec, plan.hostVeth);
    if (host?.address !== HOST_VETH_MAC) await run('ip', ['link', 'set', plan.hostVeth, 'address', HOST_VETH_MAC], {}, exec);
    for (const a of plan.ipv4) await addHostRoute(exec, plan.hostVeth, a, false);
    for (const a of plan.ipv6) await addHostRoute(exec, plan.hostVeth, a, true);
    return { podMac: podLink.address };
  } catch (e) {
    await removeHostVeth(plan.hostVeth, deps).catch((re) => deps.warn?.('rollback: deleting the veth failed', { error: String(re) }));
    if (e instanceof CniError) throw e;
    throw dataplaneError(`setting up ${plan.hostVeth} failed`, e);
  }
}

/** Deletes the host end (and with it the pod end and the routes). Returns false if it was not there. */
export async function removeHostVeth(hostVeth: string, deps: DataplaneDeps = {}): Promise<boolean> {
  const r = await (deps.exec ?? defaultExec)('ip', ['link', 'del', hostVeth]);
  if (r.code === 0) return true;
  if (/Cannot find device|does not exist/i.test(r.stderr)) return false;
  throw dataplaneError(`deleting ${hostVeth} failed`, r.stderr.trim());
}

/**
 * Deletes the container-side interface (its veth peer goes with it). A missing namespace or
 * interface is not an error: DEL must succeed for what is already gone.
 */
export async function removePodInterface(netns: string, ifName: string, deps: DataplaneDeps = {}): Promise<boolean> {
  if (!netnsExists(netns)) return false;
  const r = await execInNetns(netns, deps.exec ?? defaultExec)('ip', ['link', 'del', ifName]);
  if (r.code === 0) return true;
  if (/Cannot find device|does not exist/i.test(r.stderr)) return false;
  if (/^nsenter:/m.test(r.stderr)) {
    // A stale path that is no longer a namespace: the interface went with the namespace.
    deps.warn?.('cannot enter the container namespace; treating its interface as gone', { netns, error: r.stderr.trim() });
    return false;
  }
  throw dataplaneError(`deleting ${ifName} in ${netns} failed`, r.stderr.trim());
}

export interface CheckExpect {
  hostVeth: string;
  ifName: string;
  netns: string;
  /** Addresses with prefix length as in prevResult. */
  addresses: string[];
  /** Expected pod-side MAC, when prevResult names one. */
  podMac?: string;
}

/** Compares the live interfaces, addresses and routes with what ADD set up; returns every difference. */
export async function checkVeth(x: CheckExpect, deps: DataplaneDeps = {}): Promise<string[]> {
  const exec = deps.exec ?? defaultExec;
  const problems: string[] = [];
  if (!netnsExists(x.netns)) return [`container network namespace ${x.netns} does not exist`];
  const pod = execInNetns(x.netns, exec);
  const podLink = await linkInfo(pod, x.ifName);
  if (!podLink) return [`interface ${x.ifName} does not exist in ${x.netns}`];
  if (x.podMac && podLink.address?.toLowerCase() !== x.podMac.toLowerCase()) {
    problems.push(`${x.ifName} has MAC ${podLink.address}, prevResult says ${x.podMac}`);
  }
  if (!podLink.flags?.includes('UP')) problems.push(`${x.ifName} in ${x.netns} is down`);
  const addrs = (await ipJson<AddrJson[]>(['addr', 'show', 'dev', x.ifName], { exec: pod }))[0]?.addr_info ?? [];
  const have = new Set(addrs.map((a) => `${a.local}/${a.prefixlen}`));
  for (const want of x.addresses) if (!have.has(want)) problems.push(`${x.ifName} lacks address ${want} (has ${[...have].join(', ') || 'none'})`);
  const v4 = x.addresses.filter((a) => !a.includes(':'));
  const v6 = x.addresses.filter((a) => a.includes(':'));
  if (v4.length) {
    const routes = await ipJson<RouteJson[]>(['route', 'show', 'dev', x.ifName], { exec: pod });
    if (!routes.some((r) => r.dst === 'default' && r.gateway === IPV4_GATEWAY)) problems.push(`no default route via ${IPV4_GATEWAY} dev ${x.ifName} in the container`);
    if (!routes.some((r) => r.dst === IPV4_GATEWAY && r.scope === 'link')) problems.push(`no route ${IPV4_GATEWAY} scope link dev ${x.ifName} in the container`);
  }
  if (v6.length) {
    const routes = await ipJson<RouteJson[]>(['-6', 'route', 'show', 'dev', x.ifName], { exec: pod });
    if (!routes.some((r) => r.dst === 'default' && r.gateway === IPV6_GATEWAY)) problems.push(`no IPv6 default route via ${IPV6_GATEWAY} dev ${x.ifName} in the container`);
  }
  const host = await linkInfo(exec, x.hostVeth);
  if (!host) {
    problems.push(`host-side interface ${x.hostVeth} does not exist`);
    return problems;
  }
  if (host.address !== HOST_VETH_MAC) problems.push(`${x.hostVeth} has MAC ${host.address}, expected ${HOST_VETH_MAC}`);
  if (!host.flags?.includes('UP')) problems.push(`${x.hostVeth} is down`);
  for (const a of x.addresses) {
    const ip = a.split('/')[0]!;
    const dst = `${ip}/${a.includes(':') ? 128 : 32}`;
    const routes = await ipJson<RouteJson[]>([...(a.includes(':') ? ['-6'] : []), 'route', 'show', 'exact', dst], { exec });
    if (!routes.some((r) => r.dev === x.hostVeth)) problems.push(`no host route ${dst} dev ${x.hostVeth}`);
  }
  return problems;
}

// `tabby`, the main CNI plugin: addresses from the IPAM plugin in ipam.type, the veth and routes
// (dataplane.ts), the namespace profile and the WorkloadEndpoint (endpoint.ts). ADD undoes its
// own steps when a later one fails, so a failed ADD leaves no address, link or endpoint behind.

import { workloadInterfaceName, type WorkloadEndpoint } from '@tabby/api';
import { KubeDatastore, NotFoundError, type Datastore } from '@tabby/datastore';
import { CniCode, CniError } from './errors.js';
import { podOf } from './env.js';
import { delegateAdd, delegateOther, IpamResultError } from './delegate.js';
import {
  checkVeth, HOST_VETH_MAC, IPV4_GATEWAY, IPV6_GATEWAY, netnsExists, removeHostVeth, removePodInterface, setupVeth, type DataplaneDeps,
} from './dataplane.js';
import {
  buildWorkloadEndpoint, checkWorkloadEndpoint, datastoreError, deleteWorkloadEndpoint, endpointName, ensureNamespaceProfile,
  writeWorkloadEndpoint, type EndpointIds,
} from './endpoint.js';
import { parseResult, ipVersionOf, type Result } from './result.js';
import { nodenameOf, openDatastore } from './runtime.js';
import type { CallContext, PluginHandlers } from './skel.js';

function identify(ctx: CallContext): { ids: EndpointIds; hostVeth: string } {
  const pod = podOf(ctx.env);
  const node = nodenameOf(ctx.conf);
  return {
    ids: { node, pod, endpoint: ctx.env.ifName, containerID: ctx.env.containerID },
    hostVeth: workloadInterfaceName(pod.namespace, pod.name),
  };
}

function dataplaneDeps(ctx: CallContext): DataplaneDeps {
  return { warn: (msg, fields) => ctx.log.warn(msg, fields) };
}

/** The single address of an IPAM result entry, whatever prefix length the IPAM plugin used. */
function plainAddress(cidr: string): string {
  return cidr.split('/')[0]!;
}

/**
 * With the Kubernetes datastore the pod must exist on this node; its labels are the endpoint's
 * (as Calico's plugin reads them from the API). Undefined with etcd, where nothing is read.
 */
async function podLabelsFromApi(ds: Datastore, ids: EndpointIds): Promise<Record<string, string> | undefined> {
  if (!(ds instanceof KubeDatastore)) return undefined;
  const { namespace, name } = ids.pod;
  const pod = await ds.getPod(namespace, name).catch((e: unknown) => { throw datastoreError(`reading pod ${namespace}/${name}`, e); });
  if (!pod) throw new CniError(CniCode.datastoreFailure, `pod ${namespace}/${name} does not exist in the Kubernetes API`);
  const node = pod['spec']?.['nodeName'];
  if (node && node !== ids.node) throw new CniError(CniCode.invalidNetworkConfig, `pod ${namespace}/${name} is scheduled to node ${node}, but this node's nodename is ${ids.node}`);
  return { ...(pod['metadata']?.['labels'] ?? {}) };
}

export async function cmdAdd(ctx: CallContext): Promise<Result> {
  const { env, conf, log } = ctx;
  const { ids, hostVeth } = identify(ctx);
  // Refuse bad identifiers before anything is allocated.
  checkWorkloadEndpoint(buildWorkloadEndpoint(ids, { hostVeth, mac: '', ipNetworks: [] }), CniCode.invalidEnvironment);
  if (!netnsExists(env.netns)) throw new CniError(CniCode.unknownContainer, `CNI_NETNS: container network namespace ${env.netns} does not exist`);
  if (conf.prevResult) log.info('prevResult given; tabby creates the pod interface and reports only its own result');

  const ds = openDatastore(conf);
  try {
    const podLabels = await podLabelsFromApi(ds, ids);
    if (podLabels) log.info('pod read from the Kubernetes API', { namespace: ids.pod.namespace, pod: ids.pod.name, labels: podLabels });
    const undoIpam = () => delegateOther('DEL', conf.ipam.type, env.path, ctx.stdin, { env: ctx.processEnv })
      .catch((e: unknown) => log.error('rollback: releasing the addresses failed', { error: (e as Error).message }));
    let ipam: Result;
    try {
      ipam = await delegateAdd(conf.ipam.type, env.path, ctx.stdin, { env: ctx.processEnv });
    } catch (e) {
      if (e instanceof IpamResultError) await undoIpam();
      throw e;
    }
    const addresses = ipam.ips!.map((ip) => plainAddress(ip.address));
    const ipv4 = addresses.filter((a) => ipVersionOf(a) === 4);
    const ipv6 = addresses.filter((a) => ipVersionOf(a) === 6);
    const ipNetworks = [...ipv4.map((a) => `${a}/32`), ...ipv6.map((a) => `${a}/128`)];
    log.info('addresses assigned', { addresses: ipNetworks, hostVeth });

    let podMac: string;
    try {
      ({ podMac } = await setupVeth({ hostVeth, ifName: env.ifName, netns: env.netns, mtu: conf.mtu, ipv4, ipv6 }, dataplaneDeps(ctx)));
    } catch (e) {
      await undoIpam();
      throw e;
    }
    let wep: WorkloadEndpoint;
    try {
      wep = buildWorkloadEndpoint(ids, { hostVeth, mac: podMac, ipNetworks });
      if (podLabels) wep.metadata.labels = { ...podLabels, ...wep.metadata.labels };
      checkWorkloadEndpoint(wep, CniCode.internal);
      // With Kubernetes the namespace profiles are derived from the Namespaces themselves.
      if (!podLabels) {
        const created = await ensureNamespaceProfile(ds, ids.pod.namespace);
        if (created === 'created') log.info('created namespace profile', { namespace: ids.pod.namespace });
      }
      const { previous } = await writeWorkloadEndpoint(ds, wep);
      if (previous) log.info('replaced the workload endpoint of an earlier sandbox', { name: wep.metadata.name, previousContainerID: previous.spec.containerID });
    } catch (e) {
      await removeHostVeth(hostVeth, dataplaneDeps(ctx)).catch((re: unknown) => log.error('rollback: deleting the veth failed', { error: (re as Error).message }));
      await undoIpam();
      throw e;
    }
    log.info('workload endpoint written', { name: wep.metadata.name, namespace: ids.pod.namespace });

    const routes = [
      ...(ipv4.length ? [{ dst: '0.0.0.0/0', gw: IPV4_GATEWAY }] : []),
      ...(ipv6.length ? [{ dst: '::/0', gw: IPV6_GATEWAY }] : []),
    ];
    const result: Result = {
      cniVersion: conf.cniVersion,
      interfaces: [{ name: hostVeth, mac: HOST_VETH_MAC }, { name: env.ifName, mac: podMac, sandbox: env.netns }],
      ips: ipNetworks.map((address) => ({ address, interface: 1 })),
      routes,
    };
    const dns = conf.dns ?? ipam.dns;
    if (dns) result.dns = dns;
    return result;
  } finally {
    await ds.close();
  }
}

/**
 * DEL: the pod interface, then the endpoint (only if it is this container's), then the
 * addresses. Everything already gone counts as done. Without the pod's name in CNI_ARGS the
 * endpoint is found by container ID among this node's endpoints instead.
 */
export async function cmdDel(ctx: CallContext): Promise<void> {
  const { env, conf, log } = ctx;
  const removed = await removePodInterface(env.netns, env.ifName, dataplaneDeps(ctx));
  log.info(removed ? 'deleted the pod interface' : 'pod interface already gone', { netns: env.netns, ifName: env.ifName });
  const ds = openDatastore(conf);
  try {
    const targets: { name: string; namespace: string; hostVeth: string }[] = [];
    if (env.args.has('K8S_POD_NAMESPACE') || env.args.has('K8S_POD_NAME')) {
      const { ids, hostVeth } = identify(ctx);
      targets.push({ name: endpointName(ids), namespace: ids.pod.namespace, hostVeth });
    } else {
      const node = nodenameOf(conf);
      log.warn('DEL without K8S_POD_NAMESPACE/K8S_POD_NAME; looking the endpoint up by container ID');
      const all = await ds.list('WorkloadEndpoint').catch((e: unknown) => { throw datastoreError('listing workload endpoints', e); });
      for (const w of all.items) {
        if (w.spec.node === node && w.spec.containerID === env.containerID && w.spec.endpoint === env.ifName) {
          targets.push({ name: w.metadata.name, namespace: w.metadata.namespace!, hostVeth: w.spec.interfaceName });
        }
      }
    }
    for (const t of targets) {
      const state = await deleteWorkloadEndpoint(ds, t.name, t.namespace, env.containerID);
      log.info(`workload endpoint: ${state}`, { name: t.name, namespace: t.namespace });
      // The namespace was unreachable but the endpoint was ours: make sure the host end is gone too.
      if (state === 'deleted' && !removed && (await removeHostVeth(t.hostVeth, dataplaneDeps(ctx)))) log.info('deleted the leftover host-side veth', { hostVeth: t.hostVeth });
    }
    await delegateOther('DEL', conf.ipam.type, env.path, ctx.stdin, { env: ctx.processEnv });
  } finally {
    await ds.close();
  }
}

export async function cmdCheck(ctx: CallContext): Promise<void> {
  const { env, conf } = ctx;
  if (!conf.prevResult) throw new CniError(CniCode.invalidNetworkConfig, 'network config: prevResult: is required for CHECK');
  const prev = parseResult(conf.prevResult, 'network config: prevResult', CniCode.invalidNetworkConfig);
  const { ids, hostVeth } = identify(ctx);
  const idx = (prev.interfaces ?? []).findIndex((i) => i.name === env.ifName && (!i.sandbox || i.sandbox === env.netns));
  if (idx < 0) throw new CniError(CniCode.checkFailed, `CHECK: prevResult has no interface ${env.ifName} in ${env.netns}`);
  const addresses = (prev.ips ?? []).filter((ip) => ip.interface === undefined || ip.interface === idx).map((ip) => ip.address);
  if (!addresses.length) throw new CniError(CniCode.checkFailed, `CHECK: prevResult assigns no address to ${env.ifName}`);

  await delegateOther('CHECK', conf.ipam.type, env.path, ctx.stdin, { env: ctx.processEnv });
  const podMac = prev.interfaces![idx]!.mac;
  const problems = await checkVeth({ hostVeth, ifName: env.ifName, netns: env.netns, addresses, ...(podMac ? { podMac } : {}) });

  const ds = openDatastore(conf);
  try {
    const name = endpointName(ids);
    const wep = await ds.get('WorkloadEndpoint', name, ids.pod.namespace).catch((e: unknown) => {
      if (e instanceof NotFoundError) return undefined;
      throw datastoreError(`reading workload endpoint ${ids.pod.namespace}/${name}`, e);
    });
    if (!wep) {
      problems.push(`workload endpoint ${ids.pod.namespace}/${name} does not exist`);
    } else {
      const s = wep.spec;
      if (s.containerID !== env.containerID) problems.push(`workload endpoint belongs to container ${s.containerID}, not ${env.containerID}`);
      if (s.interfaceName !== hostVeth) problems.push(`workload endpoint names interface ${s.interfaceName}, expected ${hostVeth}`);
      const want = addresses.map((a) => `${plainAddress(a)}/${ipVersionOf(a) === 4 ? 32 : 128}`).sort();
      const have = [...(s.ipNetworks ?? [])].sort();
      if (want.join(',') !== have.join(',')) problems.push(`workload endpoint has ipNetworks ${have.join(', ') || 'none'}, prevResult says ${want.join(', ')}`);
      if (podMac && s.mac?.toLowerCase() !== podMac.toLowerCase()) problems.push(`workload endpoint has MAC ${s.mac}, prevResult says ${podMac}`);
    }
  } finally {
    await ds.close();
  }
  if (problems.length) throw new CniError(CniCode.checkFailed, `CHECK failed: ${problems.join('; ')}`);
}

export const tabbyPlugin: PluginHandlers = { add: cmdAdd, del: cmdDel, check: cmdCheck };

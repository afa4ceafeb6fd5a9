// tabby chained with Debian's containernetworking-plugins `portmap` in a conflist, run the way
// libcni runs a conflist: ADD through the plugins in order, each later plugin getting the previous
// plugin's result as `prevResult` and, for the capabilities it declares, `runtimeConfig`; CHECK in
// order with the final result; DEL in reverse order. Everything runs inside the test's host
// namespace, so portmap's iptables rules land there.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import type { Netns } from '@tabby/test-support';
import { BIN_DIR, DEBIAN_CNI_DIR, TestNode, type PluginCall, type PluginRun } from './harness.js';

const NET = 'k8s-pod-network';
const PORTMAP = `${DEBIAN_CNI_DIR}/portmap`;
const HOST_IP = '192.168.77.1';

type Conf = Record<string, unknown>;

function ok(r: PluginRun, who: string): Conf {
  expect(r.code, `${who}: exit code; stdout: ${r.stdout} stderr: ${r.stderr}`).to.equal(0);
  return r.json ?? {};
}

describe('tabby chained with portmap (containernetworking-plugins) in a conflist', function () {
  this.timeout(180_000);
  const node = new TestNode({ nodename: 'chain-node' });

  before(async function () {
    if (!existsSync(PORTMAP)) throw new Error(`${PORTMAP} is missing: install containernetworking-plugins (scripts/bootstrap.sh does)`);
    await node.start();
    await node.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-chain' }, spec: { cidr: '10.55.0.0/24', blockSize: 28 } });
    await node.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-chain-v6' }, spec: { cidr: 'fd55::/120', blockSize: 124 } });
    // A host address for clients to aim at (the node's "InternalIP").
    node.hostns.run('ip', ['addr', 'add', `${HOST_IP}/24`, 'dev', 'up0']);
  });
  after(() => node.stop());
  afterEach(() => node.deletePods());

  /** The conflist a cluster would install: tabby first, then portmap with its capability. */
  const conflist = (tabbyExtra: Conf = {}) => {
    const tabby = node.config(tabbyExtra);
    delete tabby['name'];
    delete tabby['cniVersion'];
    return { cniVersion: '1.0.0', name: NET, plugins: [tabby, { type: 'portmap', snat: true, capabilities: { portMappings: true } }] as Conf[] };
  };

  /**
   * What libcni does for one plugin of a list: the plugin's own config plus the list's name and
   * cniVersion, `runtimeConfig` holding only the capabilities the plugin declared, and prevResult.
   */
  function pluginConf(list: ReturnType<typeof conflist>, plugin: Conf, runtime: Conf, prevResult?: Conf): Conf {
    const conf: Conf = { ...plugin, name: list.name, cniVersion: list.cniVersion };
    const caps = (plugin['capabilities'] ?? {}) as Record<string, boolean>;
    const rc: Conf = {};
    for (const [k, v] of Object.entries(runtime)) if (caps[k]) rc[k] = v;
    if (Object.keys(rc).length) conf['runtimeConfig'] = rc;
    if (prevResult) conf['prevResult'] = prevResult;
    return conf;
  }

  /** Runs one plugin of the list by its type: tabby from packages/cni/bin, portmap from Debian's directory. */
  function exec(plugin: Conf, call: Omit<PluginCall, 'config' | 'path'>, config: Conf): Promise<PluginRun> {
    const exe = plugin['type'] === 'tabby' ? 'tabby' : `${DEBIAN_CNI_DIR}/${String(plugin['type'])}` as `/${string}`;
    return node.run(exe, { ...call, path: `${BIN_DIR}:${DEBIAN_CNI_DIR}`, config });
  }

  interface Sandbox { pod: Netns; id: string; args: string }
  const sandbox = (name: string, id: string): Sandbox => ({ pod: node.createPod(name), id, args: `K8S_POD_NAMESPACE=chain;K8S_POD_NAME=${name};K8S_POD_INFRA_CONTAINER_ID=${id}` });
  const callOf = (sb: Sandbox, command: PluginCall['command']) => ({ command, containerID: sb.id, netns: node.netnsPath(sb.pod), args: sb.args });

  async function addList(sb: Sandbox, runtime: Conf, extra: Conf = {}): Promise<{ results: Conf[]; final: Conf }> {
    const list = conflist(extra);
    const results: Conf[] = [];
    let prev: Conf | undefined;
    for (const p of list.plugins) {
      prev = ok(await exec(p, callOf(sb, 'ADD'), pluginConf(list, p, runtime, prev)), `${String(p['type'])} ADD`);
      results.push(prev);
    }
    return { results, final: prev! };
  }
  async function checkList(sb: Sandbox, runtime: Conf, final: Conf, extra: Conf = {}): Promise<PluginRun[]> {
    const list = conflist(extra);
    const out: PluginRun[] = [];
    for (const p of list.plugins) out.push(await exec(p, callOf(sb, 'CHECK'), pluginConf(list, p, runtime, final)));
    return out;
  }
  async function delList(sb: Sandbox, runtime: Conf, final: Conf | undefined, extra: Conf = {}): Promise<void> {
    const list = conflist(extra);
    for (const p of [...list.plugins].reverse()) ok(await exec(p, callOf(sb, 'DEL'), pluginConf(list, p, runtime, final)), `${String(p['type'])} DEL`);
  }

  const natRules = () => node.hostns.run('iptables', ['-w', '-t', 'nat', '-S']);
  const nat6Rules = () => node.hostns.run('ip6tables', ['-w', '-t', 'nat', '-S']);
  // Dual stack, so that portmap writes (and DEL removes) rules in ip6tables as well.
  const dual: Conf = { ipam: { type: 'tabby-ipam', assign_ipv4: 'true', assign_ipv6: 'true' } };

  it('ADD: portmap accepts tabby\'s result, installs DNAT for the pod, and the host port reaches the pod; CHECK runs through the chain; DEL removes it all', async () => {
    const sb = sandbox('web', `chain${process.pid}a`);
    const runtime = { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] };
    const { results, final } = await addList(sb, runtime, dual);

    // portmap passes the previous result on unchanged: it parsed every field of ours.
    expect(final).to.deep.equal(results[0]);
    const addrs = (final['ips'] as { address: string }[]).map((i) => i.address.split('/')[0]!);
    const podIP = addrs.find((a) => !a.includes(':'))!;
    const podIP6 = addrs.find((a) => a.includes(':'))!;
    expect(podIP.startsWith('10.55.0.')).to.equal(true);
    expect(podIP6.startsWith('fd55::')).to.equal(true);

    // portmap's NAT rules, inside the host namespace: a per-container DNAT chain for this pod.
    const rules = natRules();
    expect(rules).to.match(/-A PREROUTING .*-j CNI-HOSTPORT-DNAT/);
    expect(rules).to.match(/-A OUTPUT .*-j CNI-HOSTPORT-DNAT/);
    expect(rules).to.contain(`id: \\"${sb.id}\\"`);
    const dnat = rules.split('\n').filter((l) => l.includes('-j DNAT'));
    expect(dnat.some((l) => /--dport 8080\b/.test(l) && l.includes(`--to-destination ${podIP}:80`)), rules).to.equal(true);
    expect(nat6Rules()).to.contain(`--to-destination [${podIP6}]:80`);

    // Traffic to the host port reaches the pod's server: from the host itself (OUTPUT) and from
    // another pod through the host (PREROUTING).
    await node.echoServer(sb.pod, podIP, 80);
    expect(node.echoClient(node.hostns, HOST_IP, 8080, 'via-host-port')).to.equal('echo:via-host-port');
    const other = sandbox('client', `chain${process.pid}b`);
    const { final: otherFinal } = await addList(other, {});
    expect(node.echoClient(other.pod, HOST_IP, 8080, 'pod-to-host-port')).to.equal('echo:pod-to-host-port');

    // CHECK through the chain with the cached final result.
    const [tabbyCheck, portmapCheck] = await checkList(sb, runtime, final, dual);
    expect(ok(tabbyCheck!, 'tabby CHECK')).to.deep.equal({});
    // portmap 1.1.1's own CHECK looks for its IPv4 rules in ip6tables too and so always fails
    // (containernetworking/plugins#819, fixed upstream later). Accept success or exactly that.
    if (portmapCheck!.code !== 0) expect(String(portmapCheck!.json?.['msg']), portmapCheck!.stdout).to.match(/^could not check ipv6 dnat: /);

    // DEL in reverse order: portmap's rules for this container go, then tabby's veth, endpoint and address.
    await delList(sb, runtime, final, dual);
    const after = natRules();
    expect(after).to.not.contain(sb.id);
    expect(after).to.not.contain(`${podIP}:80`);
    expect(nat6Rules()).to.not.contain(sb.id);
    expect(node.hostns.tryRun('ip', ['route', 'show', 'exact', `${podIP}/32`]).stdout.trim()).to.equal('');
    expect(sb.pod.tryRun('ip', ['link', 'show', 'dev', 'eth0']).code).to.not.equal(0);
    expect((await node.ds.list('WorkloadEndpoint', { namespace: 'chain' })).items.map((w) => w.spec.containerID)).to.deep.equal([other.id]);
    // Nothing forwards the host port any more: nothing listens there, so the connection is refused.
    expect(() => node.echoClient(other.pod, HOST_IP, 8080, 'after-del')).to.throw(/ECONNREFUSED/);
    await delList(other, {}, otherFinal);
    expect((await node.ds.list('WorkloadEndpoint', { namespace: 'chain' })).items).to.deep.equal([]);
  });

  it('CHECK through the chain fails at tabby when the pod lost its address', async () => {
    const sb = sandbox('damaged', `chain${process.pid}c`);
    const runtime = { portMappings: [{ hostPort: 8081, containerPort: 81, protocol: 'tcp' }] };
    const { final } = await addList(sb, runtime);
    try {
      const addr = (final['ips'] as { address: string }[])[0]!.address;
      sb.pod.run('ip', ['addr', 'del', addr, 'dev', 'eth0']);
      const [tabby] = await checkList(sb, runtime, final);
      expect(tabby!.code).to.equal(1);
      expect(tabby!.json!['code']).to.equal(102);
      expect(String(tabby!.json!['msg'])).to.contain(addr);
    } finally {
      await delList(sb, runtime, final);
    }
    expect(natRules()).to.not.contain(sb.id);
  });
});

// ctl ipam show / release / check as a subprocess against a real etcd holding IPAM state
// written by @tabby/ipam.
import { expect } from 'chai';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startEtcd, tmpDir, type EtcdServer } from '@tabby/test-support';
import { EtcdDatastore } from '@tabby/datastore';
import { BlockAffinityIpam } from '@tabby/ipam';
import { API_VERSION } from '@tabby/api';
import { ctl } from './helpers.js';

describe('ctl ipam', function () {
  this.timeout(60_000);
  let etcd: EtcdServer;
  let ds: EtcdDatastore;
  let env: Record<string, string>;
  let scratch: string;

  before(async () => {
    etcd = await startEtcd();
    env = { ETCD_ENDPOINTS: etcd.endpoint };
    scratch = tmpDir('tabby-ctl-ipam-');
    ds = new EtcdDatastore({ endpoints: [etcd.endpoint] });
    await ds.create({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'default-ipv4-ippool' }, spec: { cidr: '10.5.0.0/16' } });
    await ds.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n3' }, spec: { bgp: { ipv4IPIPTunnelAddr: '10.5.3.7' } } });
    const ipam = new BlockAffinityIpam(ds);
    const pod = (ns: string, name: string, node: string) => ({ namespace: ns, pod: name, node });
    await ipam.assignIP({ address: '10.5.1.2', handleID: 'k8s-pod-network.c1', hostname: 'n1', attrs: pod('default', 'web-1', 'n1') });
    await ipam.assignIP({ address: '10.5.1.3', handleID: 'k8s-pod-network.c2', hostname: 'n1', attrs: pod('default', 'web-2', 'n1') });
    // n2 borrows an address from n1's block.
    await ipam.assignIP({ address: '10.5.1.4', handleID: 'k8s-pod-network.c3', hostname: 'n2', attrs: pod('prod', 'db-0', 'n2') });
    await ipam.assignIP({ address: '10.5.2.10', handleID: 'k8s-pod-network.c4', hostname: 'n2', attrs: pod('prod', 'api-0', 'n2') });
    await ipam.assignIP({ address: '10.5.3.7', handleID: 'ipip-tunnel-addr-n3', hostname: 'n3', attrs: { type: 'ipipTunnelAddress', node: 'n3' } });
    // n3 leaves: its block keeps the tunnel address but loses its affinity.
    await ipam.releaseNodeAffinities('n3');
    const wep = (ns: string, podName: string, node: string, ip: string) => ds.create({
      apiVersion: API_VERSION, kind: 'WorkloadEndpoint', metadata: { name: `${node}-k8s-${podName}-eth0`, namespace: ns },
      spec: { orchestrator: 'k8s', node, pod: podName, endpoint: 'eth0', interfaceName: 'cali0123456789a', ipNetworks: [`${ip}/32`] },
    });
    await wep('default', 'web-1', 'n1', '10.5.1.2');
    await wep('prod', 'db-0', 'n2', '10.5.1.4');
    await wep('prod', 'api-0', 'n2', '10.5.2.10');
  });
  after(async () => {
    await ds?.close();
    await etcd?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const ok = (args: string[]) => {
    const r = ctl(args, { env });
    expect(r.stderr, args.join(' ')).to.equal('');
    expect(r.code, args.join(' ')).to.equal(0);
    return r.stdout;
  };

  it('ipam show: one row per pool', () => {
    expect(ok(['ipam', 'show'])).to.equal(
      '+----------+-------------+-----------+------------+--------------+\n' +
      '| GROUPING | CIDR        | IPS TOTAL | IPS IN USE | IPS FREE     |\n' +
      '+----------+-------------+-----------+------------+--------------+\n' +
      '| IP Pool  | 10.5.0.0/16 | 65536     | 5 (0%)     | 65531 (100%) |\n' +
      '+----------+-------------+-----------+------------+--------------+\n');
  });

  it('ipam show --show-blocks: the blocks too, with rounded percentages', () => {
    expect(ok(['ipam', 'show', '--show-blocks'])).to.equal(
      '+----------+-------------+-----------+------------+--------------+\n' +
      '| GROUPING | CIDR        | IPS TOTAL | IPS IN USE | IPS FREE     |\n' +
      '+----------+-------------+-----------+------------+--------------+\n' +
      '| IP Pool  | 10.5.0.0/16 | 65536     | 5 (0%)     | 65531 (100%) |\n' +
      '| Block    | 10.5.1.0/26 | 64        | 3 (5%)     | 61 (95%)     |\n' +
      '| Block    | 10.5.2.0/26 | 64        | 1 (2%)     | 63 (98%)     |\n' +
      '| Block    | 10.5.3.0/26 | 64        | 1 (2%)     | 63 (98%)     |\n' +
      '+----------+-------------+-----------+------------+--------------+\n');
  });

  it('ipam show --ip: handle and attributes, or "not assigned"; bad text fails', () => {
    expect(ok(['ipam', 'show', '--ip=10.5.1.2'])).to.equal(
      'IP 10.5.1.2 is in use\n' +
      'Handle ID: k8s-pod-network.c1\n' +
      'Active Owner Attributes:\n' +
      '  namespace: default\n' +
      '  node: n1\n' +
      '  pod: web-1\n');
    expect(ok(['ipam', 'show', '--ip', '10.5.1.9'])).to.equal('10.5.1.9 is not assigned\n');
    expect(ok(['ipam', 'show', '--ip', '192.168.0.1'])).to.equal('192.168.0.1 is not assigned\n');
    const bad = ctl(['ipam', 'show', '--ip', '10.5.1.300'], { env });
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.equal('invalid IP address specified: 10.5.1.300\n');
  });

  it('ipam show --show-borrowed: addresses used by a node other than the block owner', () => {
    expect(ok(['ipam', 'show', '--show-borrowed'])).to.equal(
      '+----------+----------------+-------------+-------------+-------------------+--------------+\n' +
      '| IP       | BORROWING-NODE | BLOCK       | BLOCK OWNER | TYPE              | ALLOCATED-TO |\n' +
      '+----------+----------------+-------------+-------------+-------------------+--------------+\n' +
      '| 10.5.1.4 | n2             | 10.5.1.0/26 | n1          | pod               | prod/db-0    |\n' +
      '| 10.5.3.7 | n3             | 10.5.3.0/26 |             | ipipTunnelAddress |              |\n' +
      '+----------+----------------+-------------+-------------+-------------------+--------------+\n');
  });

  it('ipam show --show-configuration: Calico\'s defaults when none is stored', () => {
    expect(ok(['ipam', 'show', '--show-configuration'])).to.equal(
      '+--------------------+-------+\n' +
      '| PROPERTY           | VALUE |\n' +
      '+--------------------+-------+\n' +
      '| StrictAffinity     | false |\n' +
      '| AutoAllocateBlocks | true  |\n' +
      '| MaxBlocksPerHost   | 0     |\n' +
      '+--------------------+-------+\n');
  });

  it('ipam check: reports the pod without a WorkloadEndpoint and the block without affinity, exit 1', () => {
    const report = join(scratch, 'report.json');
    const r = ctl(['ipam', 'check', '-o', report], { env });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('IPAM check found 2 problems\n');
    expect(r.stdout).to.equal([
      'Checking IPAM for inconsistencies...',
      '',
      'Loading all IPAM blocks...',
      'Found 3 IPAM blocks.',
      ' IPAM block 10.5.1.0/26 affinity=host:n1:',
      ' IPAM block 10.5.2.0/26 affinity=host:n2:',
      ' IPAM block 10.5.3.0/26 affinity=<none>:',
      'IPAM blocks record 5 allocations.',
      '',
      'Loading all IPAM pools...',
      '  10.5.0.0/16',
      'Found 1 active IP pools.',
      '',
      'Loading all nodes.',
      'Found 1 node tunnel IPs.',
      '',
      'Loading all workload endpoints.',
      'Found 3 workload IPs.',
      'Workloads and nodes are using 4 IPs.',
      '',
      'Scanning for IPs that are allocated but not actually in use...',
      '  10.5.1.3 leaked: pod default/web-2 has no WorkloadEndpoint (handle k8s-pod-network.c2, namespace=default, node=n1, pod=web-2)',
      'Found 1 IPs that are allocated in IPAM but not actually in use.',
      'Scanning for IPs that are in use by a workload or node but not allocated in IPAM...',
      'Found 0 in-use IPs that are not in active IP pools.',
      'Found 0 in-use IPs that are in active IP pools but have no corresponding IPAM allocation.',
      '',
      'Scanning for IPAM handles with no matching IPs...',
      'Found 0 handles with no matching IPs (and 5 handles with matches).',
      'Scanning for IPs with missing handle...',
      'Found 0 handles mentioned in blocks with no matching handle resource.',
      'Scanning for IPAM blocks with no affinity...',
      '  10.5.3.0/26 has no affinity.',
      'Found 1 IPAM blocks with no affinity.',
      'Scanning for block affinities with no matching block...',
      'Found 0 block affinities with no matching block.',
      'Check complete; found 2 problems.',
      '',
    ].join('\n'));
    const json = JSON.parse(readFileSync(report, 'utf8'));
    expect(json.leaked.map((l: { address: string }) => l.address)).to.deep.equal(['10.5.1.3']);
    expect(json.problems).to.equal(2);
  });

  it('ipam release --ip frees the leaked address; a second release and bad input fail', () => {
    expect(ok(['ipam', 'release', '--ip=10.5.1.3'])).to.equal('Successfully released IP address 10.5.1.3\n');
    expect(ok(['ipam', 'show', '--ip=10.5.1.3'])).to.equal('10.5.1.3 is not assigned\n');
    const again = ctl(['ipam', 'release', '--ip=10.5.1.3'], { env });
    expect([again.code, again.stdout, again.stderr]).to.deep.equal([1, '', 'IP address 10.5.1.3 is not assigned\n']);
    const bad = ctl(['ipam', 'release', '--ip=ten'], { env });
    expect([bad.code, bad.stderr]).to.deep.equal([1, 'invalid IP address specified: ten\n']);
    const none = ctl(['ipam', 'release'], { env });
    expect([none.code, none.stderr]).to.deep.equal([1, 'ipam release: give the address to release with --ip=<IP>\n']);
    const check = ctl(['ipam', 'check'], { env });
    expect(check.code).to.equal(1);
    expect(check.stdout).to.contain('Found 0 IPs that are allocated in IPAM but not actually in use.\n');
    expect(check.stdout).to.match(/Check complete; found 1 problems\.\n$/);
    expect(existsSync(join(scratch, 'report.json'))).to.equal(true);
  });

  it('ipam check exits 0 on a consistent store', async () => {
    await new BlockAffinityIpam(ds).releaseByHandle('ipip-tunnel-addr-n3');
    let r = ctl(['ipam', 'check'], { env });
    expect(r.stdout).to.contain('  10.5.3.7 in use by Node(n3) and in active IPAM pool but has no IPAM allocation.\n');
    expect(r.code).to.equal(1);
    const n3 = await ds.get('Node', 'n3');
    await ds.update({ ...n3, spec: {} });
    r = ctl(['ipam', 'check'], { env });
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/Found 2 IPAM blocks\.\n/);
    expect(r.stdout).to.match(/Check complete; found 0 problems\.\n$/);
  });
});

// ctl against a real etcd, run as a subprocess the way a user runs it.
import { expect } from 'chai';
import { writeFileSync, mkdtempSync, mkdirSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startEtcd, type EtcdServer } from '@tabby/test-support';
import { ctl, etcdctl, FIXTURES } from './helpers.js';

const DOCS = join(FIXTURES, 'calico-docs');

describe('ctl against etcd', function () {
  this.timeout(60_000);
  let etcd: EtcdServer;
  let env: Record<string, string>;
  let scratch: string;

  before(async () => {
    etcd = await startEtcd();
    env = { ETCD_ENDPOINTS: etcd.endpoint };
    scratch = mkdtempSync(join(tmpdir(), 'tabby-ctl-'));
  });
  after(async () => {
    await etcd?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const keys = (prefix: string) => etcdctl(etcd.endpoint, ['get', '--prefix', prefix, '--keys-only']).split('\n').filter(Boolean).sort();
  const file = (name: string, body: string) => {
    const p = join(scratch, name);
    writeFileSync(p, body);
    return p;
  };

  describe("Calico's documentation examples", () => {
    it('apply unchanged, one file at a time', () => {
      for (const f of readdirSync(DOCS).sort()) {
        const r = ctl(['apply', '-f', join(DOCS, f)], { env });
        expect(r.stderr, f).to.equal('');
        expect(r.code, f).to.equal(0);
        expect(r.stdout, f).to.match(/^Successfully applied 1 '\w+' resource\(s\)\n$/);
      }
    });

    it('land under the keys Calico uses', () => {
      expect(keys('/calico/')).to.deep.equal([
        '/calico/resources/v3/projectcalico.org/bgpconfigurations/default',
        '/calico/resources/v3/projectcalico.org/bgppeers/some.name',
        '/calico/resources/v3/projectcalico.org/globalnetworkpolicies/allow-tcp-6379',
        '/calico/resources/v3/projectcalico.org/ippools/my.ippool-1',
        '/calico/resources/v3/projectcalico.org/networkpolicies/production/allow-tcp-6379',
        '/calico/resources/v3/projectcalico.org/nodes/node-hostname',
      ]);
      const stored = JSON.parse(etcdctl(etcd.endpoint, ['get', '/calico/resources/v3/projectcalico.org/ippools/my.ippool-1', '--print-value-only']));
      expect(stored).to.include({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool' });
      expect(stored.spec).to.include({ cidr: '10.1.0.0/16', ipipMode: 'CrossSubnet', natOutgoing: true });
      expect(stored.metadata.resourceVersion, 'resourceVersion is the mod revision, not stored').to.equal(undefined);
    });

    it('get ippool -o wide shows calicoctl columns, with defaults filled in', () => {
      const r = ctl(['get', 'ippool', '-o', 'wide'], { env });
      expect(r.code).to.equal(0);
      expect(r.stdout).to.equal(
        'NAME          CIDR          NAT    IPIPMODE      VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR   \n' +
        'my.ippool-1   10.1.0.0/16   true   CrossSubnet   Never       false      false              all()      \n' +
        '\n');
    });

    it('get bgppeer / bgpconfig / node use calicoctl columns and cell rules', () => {
      expect(ctl(['get', 'bgpp'], { env }).stdout).to.equal(
        'NAME        PEERIP        NODE          ASN     \n' +
        'some.name   192.168.1.1   rack1-host1   63400   \n\n');
      expect(ctl(['get', 'bgpconfig'], { env }).stdout).to.equal(
        'NAME      LOGSEVERITY   MESHENABLED   ASNUMBER   \n' +
        'default   Info          true          63400      \n\n');
      expect(ctl(['get', 'nodes', '-o', 'wide'], { env }).stdout).to.equal(
        'NAME            ASN     IPV4            IPV6                               \n' +
        'node-hostname   64512   10.244.0.1/24   2001:db8:85a3::8a2e:370:7334/120   \n\n');
    });

    it('policies: namespaced get defaults to "default"; -n and -A add NAMESPACE', () => {
      expect(ctl(['get', 'networkpolicy'], { env }).stdout).to.equal('NAME   \n\n');
      expect(ctl(['get', 'netpol', '-n', 'production', '-o', 'wide'], { env }).stdout).to.equal(
        'NAMESPACE    NAME             ORDER   SELECTOR             \n' +
        "production   allow-tcp-6379           role == 'database'   \n\n");
      const all = ctl(['get', 'policy', '-A'], { env });
      expect(all.stdout).to.equal('NAMESPACE    NAME             \nproduction   allow-tcp-6379   \n\n');
      expect(ctl(['get', 'gnp', '-o', 'wide'], { env }).stdout).to.match(/^NAME {13}ORDER {3}SELECTOR {13}\nallow-tcp-6379 {11}role == 'database' {3}\n\n$/);
    });

    it('get -o yaml of one resource prints the bare object with sorted keys and defaults', () => {
      const r = ctl(['get', 'ippool', 'my.ippool-1', '-o', 'yaml'], { env });
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(/^apiVersion: projectcalico.org\/v3\nkind: IPPool\nmetadata:\n  creationTimestamp: .+\n  name: my.ippool-1\n  resourceVersion: "\d+"\n  uid: [0-9a-f-]{36}\nspec:\n/);
      expect(r.stdout).to.include('  blockSize: 26\n');
      expect(r.stdout).to.include('  vxlanMode: Never\n');
    });

    it('get -o json of a kind prints a List with the store revision', () => {
      const r = ctl(['get', 'bgppeers', '-o', 'json'], { env });
      const list = JSON.parse(r.stdout);
      expect(list.kind).to.equal('BGPPeerList');
      expect(list.apiVersion).to.equal('projectcalico.org/v3');
      expect(list.items.map((i: { metadata: { name: string } }) => i.metadata.name)).to.deep.equal(['some.name']);
      expect(Number(list.metadata.resourceVersion)).to.be.greaterThan(0);
    });

    it('--export strips cluster-specific metadata', () => {
      const r = ctl(['get', 'bgppeer', 'some.name', '-o', 'json', '--export'], { env });
      const obj = JSON.parse(r.stdout);
      expect(obj.metadata).to.deep.equal({ name: 'some.name' });
    });

    it('custom-columns selects headings and rejects unknown ones', () => {
      expect(ctl(['get', 'ippool', '-o', 'custom-columns=NAME,NAT'], { env }).stdout).to.equal(
        'NAME          NAT    \nmy.ippool-1   true   \n\n');
      const bad = ctl(['get', 'ippool', '-o', 'custom-columns=NAME,BOGUS'], { env });
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.include('Unknown heading BOGUS, valid values are:');
    });
  });

  describe('create / replace / delete', () => {
    it('create refuses an existing resource with calicoctl wording; --skip-exists accepts it', () => {
      const r = ctl(['create', '-f', join(DOCS, 'bgppeer.yaml')], { env });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal("Failed to create 'BGPPeer' resource: [resource already exists: BGPPeer(some.name)]\n");
      const skip = ctl(['create', '--skip-exists', '-f', join(DOCS, 'bgppeer.yaml')], { env });
      expect(skip.code).to.equal(0);
      expect(skip.stdout).to.equal("Successfully created 1 'BGPPeer' resource(s)\n");
    });

    it('replace with a stale resourceVersion is a conflict; without one it succeeds', () => {
      const current = JSON.parse(ctl(['get', 'bgppeer', 'some.name', '-o', 'json'], { env }).stdout);
      const stale = { ...current, metadata: { ...current.metadata, resourceVersion: '1' }, spec: { ...current.spec, asNumber: 65001 } };
      const r = ctl(['replace', '-f', '-'], { env, input: JSON.stringify(stale) });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include("Resource version '1' is out of date");
      const fresh = { ...stale, metadata: { name: 'some.name' } };
      const ok = ctl(['replace', '-f', '-'], { env, input: JSON.stringify(fresh) });
      expect(ok.stderr).to.equal('');
      expect(ok.stdout).to.equal("Successfully replaced 1 'BGPPeer' resource(s)\n");
      const after = JSON.parse(ctl(['get', 'bgppeer', 'some.name', '-o', 'json'], { env }).stdout);
      expect(after.spec.asNumber).to.equal(65001);
      expect(after.metadata.uid, 'uid survives a replace').to.equal(current.metadata.uid);
    });

    it('replace of a missing resource fails', () => {
      const r = ctl(['replace', '-f', '-'], { env, input: 'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: nope}\nspec: {peerIP: 10.0.0.1, asNumber: 1}\n' });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal("Failed to replace 'BGPPeer' resource: [resource does not exist: BGPPeer(nope)]\n");
    });

    it('reads a directory and stdin, and reports mixed kinds', () => {
      const dir = join(scratch, 'dir');
      const sub = join(dir, 'sub');
      mkdirSync(sub, { recursive: true });
      writeFileSync(join(dir, 'a.yaml'), 'apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: prof-a}\n');
      writeFileSync(join(dir, 'b.yml'), 'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: hep-b}\nspec: {node: n1, interfaceName: eth0}\n');
      writeFileSync(join(dir, 'ignored.txt'), 'not yaml: [');
      writeFileSync(join(sub, 'c.yaml'), 'apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: prof-c}\n');
      expect(ctl(['create', '-f', dir], { env }).stdout).to.equal('Successfully created 2 resource(s)\n');
      expect(ctl(['get', 'profiles'], { env }).stdout).to.equal('NAME     \nprof-a   \n\n');
      expect(ctl(['create', '-R', '-f', dir, '--skip-exists'], { env }).stdout).to.equal('Successfully created 3 resource(s)\n');
      expect(ctl(['get', 'pro'], { env }).stdout).to.equal('NAME     \nprof-a   \nprof-c   \n\n');
      const del = ctl(['delete', '-f', '-'], { env, input: 'apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: prof-c}\n' });
      expect(del.stdout).to.equal("Successfully deleted 1 'Profile' resource(s)\n");
    });

    it('delete KIND NAME, missing resources and --skip-not-exists', () => {
      expect(ctl(['delete', 'hep', 'hep-b'], { env }).stdout).to.equal("Successfully deleted 1 'HostEndpoint' resource(s)\n");
      const missing = ctl(['delete', 'hostendpoint', 'hep-b'], { env });
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.equal("Failed to delete 'HostEndpoint' resource: [resource does not exist: HostEndpoint(hep-b)]\n");
      expect(ctl(['delete', 'hep', 'hep-b', '-s'], { env }).code).to.equal(0);
    });

    it('partial success: writes what it can and reports the rest', () => {
      const f = file('partial.yaml', [
        'apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: prof-a}',
        'apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: prof-new}',
      ].join('\n---\n'));
      const r = ctl(['create', '-f', f], { env });
      expect(r.code).to.equal(1);
      expect(r.stdout).to.equal("Partial success: created 1 out of 2 'Profile' resources:\n");
      expect(r.stderr).to.equal('Hit error: [resource already exists: Profile(prof-a)]\n');
    });
  });

  describe('bad input', () => {
    it('one invalid document: error names file, document, field and value; nothing is written', () => {
      const f = join(FIXTURES, 'bad', 'two-pools-one-invalid.yaml');
      const r = ctl(['create', '-f', f], { env });
      expect(r.code).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.include('nothing was written');
      expect(r.stderr).to.include(`${f}: document 2 (IPPool "bad-pool"): spec.cidr:`);
      expect(r.stderr).to.include('"10.60.0.1/16"');
      expect(keys('/calico/resources/v3/projectcalico.org/ippools/')).to.deep.equal(['/calico/resources/v3/projectcalico.org/ippools/my.ippool-1']);
    });

    it('unparsable YAML names the file, document and line', () => {
      const f = join(FIXTURES, 'bad', 'syntax.yaml');
      const r = ctl(['apply', '-f', f], { env });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(new RegExp(`^Failed to execute command: ${f.replace(/[.]/g, '\\.')}: document 1: YAML syntax error at line \\d+, column \\d+: `));
    });

    it('an unknown kind is named, with a suggestion', () => {
      const r = ctl(['create', '-f', join(FIXTURES, 'bad', 'unknown-kind.yaml')], { env });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include('kind: unknown resource kind (did you mean "IPPool"?)');
      expect(r.stderr).to.include('"IPPol"');
    });

    it('an unknown field is rejected with did-you-mean', () => {
      const r = ctl(['apply', '-f', '-'], { env, input: 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p9}\nspec: {cidr: 10.9.0.0/16, natOutgoin: true}\n' });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include('stdin: document 1 (IPPool "p9"): spec.natOutgoin: unknown field (did you mean "natOutgoing"?)');
    });

    it('get of a missing resource and of an unknown type fail with calicoctl messages', () => {
      const r = ctl(['get', 'ippool', 'nope'], { env });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal('Failed to get resources: resource does not exist: IPPool(nope)\n');
      const t = ctl(['get', 'ippoolz'], { env });
      expect(t.code).to.equal(1);
      expect(t.stderr).to.equal("Failed to get resources: resource type 'ippoolz' is not supported\n");
    });

    it('an overlapping pool is refused', () => {
      const r = ctl(['create', '-f', '-'], { env, input: 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: overlap}\nspec: {cidr: 10.1.128.0/17}\n' });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include('overlaps with IPPool(my.ippool-1)');
    });

    it('an unknown flag fails with a suggestion', () => {
      const r = ctl(['get', 'ippool', '--outptu', 'wide'], { env });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include("unknown option '--outptu'");
    });

    it('an unreachable etcd gives a clear error within a few seconds', () => {
      const r = ctl(['get', 'ippools'], { env: { ETCD_ENDPOINTS: 'http://127.0.0.1:1' } });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include('127.0.0.1:1');
      expect(r.ms).to.be.lessThan(10_000);
    });
  });

  describe('patch and label', () => {
    it('patch merges into the spec and validates the result', () => {
      const r = ctl(['patch', 'node', 'node-hostname', '-p', '{"spec":{"bgp":{"routeReflectorClusterID":"224.0.0.1"}}}'], { env });
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.equal("Successfully patched 1 'Node' resource\n");
      const n = JSON.parse(ctl(['get', 'node', 'node-hostname', '-o', 'json'], { env }).stdout);
      expect(n.spec.bgp).to.include({ routeReflectorClusterID: '224.0.0.1', ipv4Address: '10.244.0.1/24' });
      const bad = ctl(['patch', 'ippool', 'my.ippool-1', '-p', '{"spec":{"ipipMode":"Sometimes"}}'], { env });
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.include('spec.ipipMode');
    });

    it('label sets, refuses to overwrite without --overwrite, updates and removes', () => {
      expect(ctl(['label', 'nodes', 'node-hostname', 'rack=r1'], { env }).stdout).to.equal('Successfully set label rack on nodes node-hostname\n');
      const again = ctl(['label', 'nodes', 'node-hostname', 'rack=r2'], { env });
      expect(again.code).to.equal(1);
      expect(again.stderr).to.include('--overwrite');
      expect(ctl(['label', 'nodes', 'node-hostname', 'rack=r2', '--overwrite'], { env }).stdout).to.equal('Successfully updated label rack on nodes node-hostname\n');
      expect(JSON.parse(ctl(['get', 'node', 'node-hostname', '-o', 'json'], { env }).stdout).metadata.labels).to.deep.equal({ rack: 'r2' });
      expect(ctl(['label', 'nodes', 'node-hostname', 'rack', '--remove'], { env }).stdout).to.equal('Successfully removed label rack from nodes node-hostname\n');
    });
  });

  describe('workload endpoints', () => {
    it('get wep shows WORKLOAD NODE NETWORKS INTERFACE; -o wide adds NAME PROFILES NATS', () => {
      const wep = {
        apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint',
        metadata: { name: 'node1-k8s-nginx-eth0', namespace: 'default', labels: { app: 'nginx' } },
        spec: { orchestrator: 'k8s', node: 'node1', pod: 'nginx', endpoint: 'eth0', containerID: 'abc123',
          interfaceName: 'cali0123456789a', ipNetworks: ['192.168.1.5/32'], profiles: ['kns.default', 'ksa.default.default'] },
      };
      const r = ctl(['create', '-f', '-'], { env, input: JSON.stringify(wep) });
      expect(r.stderr).to.equal('');
      expect(ctl(['get', 'wep'], { env }).stdout).to.equal(
        'WORKLOAD   NODE    NETWORKS         INTERFACE         \n' +
        'nginx      node1   192.168.1.5/32   cali0123456789a   \n\n');
      expect(ctl(['get', 'weps', '-o', 'wide', '-A'], { env }).stdout).to.equal(
        'NAMESPACE   NAME                   WORKLOAD   NODE    NETWORKS         INTERFACE         PROFILES                          NATS   \n' +
        'default     node1-k8s-nginx-eth0   nginx      node1   192.168.1.5/32   cali0123456789a   kns.default,ksa.default.default          \n\n');
      expect(ctl(['get', 'wep', '-n', 'other'], { env }).stdout).to.equal('NAMESPACE   WORKLOAD   NODE   NETWORKS   INTERFACE   \n\n');
      expect(keys('/calico/resources/v3/projectcalico.org/workloadendpoints/')).to.deep.equal([
        '/calico/resources/v3/projectcalico.org/workloadendpoints/default/node1-k8s-nginx-eth0',
      ]);
    });
  });

  describe('connection settings', () => {
    it('--config reads a CalicoAPIConfig file', () => {
      const cfg = file('ctl.cfg', `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: ${etcd.endpoint}\n`);
      const r = ctl(['get', 'bgpp', '--config', cfg], { env: { ETCD_ENDPOINTS: 'http://127.0.0.1:1' } });
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.include('some.name');
    });

    it('a missing --config file is an error naming it', () => {
      const r = ctl(['get', 'bgpp', '-c', join(scratch, 'nope.cfg')], { env });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include('nope.cfg');
    });

    it('version prints client and cluster versions', () => {
      const none = ctl(['version'], { env });
      expect(none.stdout).to.match(/^Client Version: {4}v\d+\.\d+\.\d+\nGit commit: {8}\S+\n$/);
      expect(none.code).to.equal(1);
      expect(none.stderr).to.include('Unable to retrieve Cluster Version or Type');
      etcdctl(etcd.endpoint, ['put', '/calico/resources/v3/projectcalico.org/clusterinformations/default',
        JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { calicoVersion: 'v3.28.0', clusterType: 'tabby,bgp', clusterGUID: 'abc', datastoreReady: true } })]);
      const ok = ctl(['version'], { env });
      expect(ok.code).to.equal(0);
      expect(ok.stdout).to.match(/Cluster Version: {3}v3\.28\.0\nCluster Type: {6}tabby,bgp\n$/);
      const ro = ctl(['delete', 'clusterinfo', 'default'], { env });
      expect(ro.code).to.equal(1);
      expect(ro.stderr).to.include('readonly');
    });
  });
});


// Network config parsing (Calico's keys) and node name resolution.
import { expect } from 'chai';
import { CniCode, DEFAULT_IPAM_LOCK_FILE, DEFAULT_NODENAME_FILE, parseNetConf, resolveNodename } from '@tabby/cni';
import { cniError } from './helpers.js';

const minimal = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tabby', ipam: { type: 'tabby-ipam' } };
const conf = (extra: Record<string, unknown>) => JSON.stringify({ ...minimal, ...extra });

describe('network config', () => {
  it('fills Calico defaults', () => {
    const c = parseNetConf(JSON.stringify(minimal));
    expect(c).to.deep.include({
      cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tabby', datastoreType: 'etcdv3', mtu: 1500, logLevel: 'info',
      nodenameFile: DEFAULT_NODENAME_FILE, nodenameFileOptional: false, ipamLockFile: '/var/run/calico/ipam.lock',
    });
    expect(DEFAULT_IPAM_LOCK_FILE).to.equal('/var/run/calico/ipam.lock');
    expect(c.etcd).to.deep.equal({ endpoints: ['http://127.0.0.1:2379'] });
    expect(c.ipam).to.deep.equal({ type: 'tabby-ipam', assignIpv4: true, assignIpv6: false });
    expect(c.nodename).to.equal(undefined);
    expect(c.raw).to.deep.equal(minimal);
  });

  it('reads every key of an etcd-mode conflist entry', () => {
    const c = parseNetConf(conf({
      datastore_type: 'etcdv3', etcd_endpoints: 'https://10.0.0.1:2379,https://10.0.0.2:2379', etcd_ca_cert_file: '/ca', etcd_cert_file: '/c',
      etcd_key_file: '/k', nodename: 'node-1', mtu: 1440, log_level: 'Debug', log_file_path: '/var/log/tabby/cni.log',
      ipam: { type: 'tabby-ipam', ipv4_pools: ['10.1.0.0/16', 'pool2'], ipv6_pools: ['fd00::/48'], assign_ipv4: 'true', assign_ipv6: 'true' },
      dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] }, policy: { type: 'k8s' }, kubernetes: { kubeconfig: '/x' },
    }));
    expect(c.etcd).to.deep.equal({ endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'], caCertFile: '/ca', certFile: '/c', keyFile: '/k' });
    expect(c).to.deep.include({ nodename: 'node-1', mtu: 1440, logLevel: 'Debug', logFilePath: '/var/log/tabby/cni.log' });
    expect(c.ipam).to.deep.equal({ type: 'tabby-ipam', ipv4Pools: ['10.1.0.0/16', 'pool2'], ipv6Pools: ['fd00::/48'], assignIpv4: true, assignIpv6: true });
    expect(c.dns).to.deep.equal({ nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] });
  });

  it('ipam_lock_file: a path of its own, or empty to turn the lock off; anything else is refused', () => {
    expect(parseNetConf(conf({ ipam_lock_file: '/run/tabby/ipam.lock' })).ipamLockFile).to.equal('/run/tabby/ipam.lock');
    expect(parseNetConf(conf({ ipam_lock_file: '' })).ipamLockFile).to.equal('');
    expect(cniError(() => parseNetConf(conf({ ipam_lock_file: 5 }))).message).to.equal('network config: ipam_lock_file 5: must be a string');
  });

  it('keeps prevResult for CHECK and chained calls', () => {
    const prev = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.1/32' }] };
    expect(parseNetConf(conf({ prevResult: prev })).prevResult).to.deep.equal(prev);
    expect(cniError(() => parseNetConf(conf({ prevResult: 'x' }))).message).to.contain('prevResult');
  });

  it('mtu 0 means the default; anything else out of range is refused by name', () => {
    expect(parseNetConf(conf({ mtu: 0 })).mtu).to.equal(1500);
    for (const bad of ['1500', 67, 70000, 1.5]) {
      const e = cniError(() => parseNetConf(conf({ mtu: bad })));
      expect(e.code).to.equal(CniCode.invalidNetworkConfig).and.to.equal(7);
      expect(e.message).to.equal(`network config: mtu ${JSON.stringify(bad)}: must be an integer from 68 to 65535 (0 or absent: 1500)`);
    }
  });

  it('datastore_type kubernetes reads the kubernetes section (kubeconfig required) as Calico\'s conflist writes it', () => {
    const c = parseNetConf(conf({ datastore_type: 'kubernetes', nodename: 'node-1', kubernetes: { kubeconfig: '/etc/cni/net.d/tabby-kubeconfig' }, policy: { type: 'k8s' } }));
    expect(c.datastoreType).to.equal('kubernetes');
    expect(c.kubernetes).to.deep.equal({ kubeconfig: '/etc/cni/net.d/tabby-kubeconfig' });
    expect(parseNetConf(conf({ datastore_type: 'kubernetes', kubernetes: { kubeconfig: '/k', k8s_api_root: 'https://10.96.0.1:443' } })).kubernetes)
      .to.deep.equal({ kubeconfig: '/k', apiRoot: 'https://10.96.0.1:443' });
    const e = cniError(() => parseNetConf(conf({ datastore_type: 'kubernetes' })));
    expect(e.code).to.equal(7);
    expect(e.message).to.equal('network config: kubernetes.kubeconfig: is required with datastore_type kubernetes (e.g. /etc/cni/net.d/tabby-kubeconfig)');
    expect(cniError(() => parseNetConf(conf({ datastore_type: 'kubernetes', kubernetes: 'x' }))).message).to.equal('network config: kubernetes "x": must be an object');
    expect(cniError(() => parseNetConf(conf({ datastore_type: 'kubernetes', kubernetes: { kubeconfig: '/k', k8s_api_root: 'nope' } }))).message).to.contain('kubernetes.k8s_api_root "nope"');
    expect(cniError(() => parseNetConf(conf({ datastore_type: 'consul' }))).message).to.equal('network config: datastore_type "consul": unknown datastore type (expected etcdv3 or kubernetes)');
  });

  it('names the field of every other mistake', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: undefined }, 'network config: name: is required'],
      [{ name: '-net' }, 'network config: name "-net": must start with'],
      [{ type: 5 }, 'network config: type 5: must be a string'],
      [{ ipam: undefined }, 'network config: ipam: is required'],
      [{ ipam: { ipv4_pools: [] } }, 'network config: ipam.type: is required'],
      [{ ipam: { type: '../evil' } }, 'network config: ipam.type "../evil": must be a plugin name'],
      [{ ipam: { type: 'tabby-ipam', ipv4_pools: '10.0.0.0/8' } }, 'network config: ipam.ipv4_pools "10.0.0.0/8": must be a list'],
      [{ ipam: { type: 'tabby-ipam', assign_ipv6: 'yes' } }, 'network config: ipam.assign_ipv6 "yes": must be true or false'],
      [{ etcd_endpoints: '10.0.0.1:2379' }, 'network config: etcd_endpoints "10.0.0.1:2379": "10.0.0.1:2379" is not an etcd URL'],
      [{ etcd_endpoints: 'http://a:1,https://b:2' }, 'mixes http:// and https://'],
      [{ etcd_cert_file: '/c' }, 'network config: etcd_key_file: is required'],
      [{ log_level: 'loud' }, 'network config: log_level "loud": must be one of'],
      [{ dns: { nameservers: '8.8.8.8' } }, 'network config: dns.nameservers "8.8.8.8"'],
    ];
    for (const [extra, msg] of cases) {
      const e = cniError(() => parseNetConf(conf(extra)));
      expect(e.code, msg).to.equal(7);
      expect(e.message).to.contain(msg);
    }
  });

  it('text that is not a JSON object is code 6; an unsupported cniVersion code 1', () => {
    expect(cniError(() => parseNetConf('{nope')).code).to.equal(CniCode.decodingFailure);
    expect(cniError(() => parseNetConf('[1]')).code).to.equal(6);
    const e = cniError(() => parseNetConf(conf({ cniVersion: '0.2.0' })));
    expect(e.code).to.equal(CniCode.incompatibleVersion);
    expect(e.message).to.contain('"0.2.0" is not supported');
    expect(e.details).to.equal('supported versions: 0.3.0, 0.3.1, 0.4.0, 1.0.0');
    expect(cniError(() => parseNetConf(conf({ cniVersion: undefined }))).message).to.contain('missing');
    for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0']) expect(parseNetConf(conf({ cniVersion: v })).cniVersion).to.equal(v);
  });
});

describe('node name', () => {
  const src = (files: Record<string, string>, host = 'Host-A ') => ({ readFile: (p: string) => files[p], hostname: () => host });

  it('nodename wins, then nodename_file, then the (lower-cased) host name', () => {
    const file = { [DEFAULT_NODENAME_FILE]: 'node-from-file\n' };
    expect(resolveNodename(parseNetConf(conf({ nodename: 'n1' })), src(file))).to.equal('n1');
    expect(resolveNodename(parseNetConf(conf({})), src(file))).to.equal('node-from-file');
    expect(resolveNodename(parseNetConf(conf({})), src({}))).to.equal('host-a');
  });

  it('a configured nodename_file must exist unless it is optional', () => {
    const c = parseNetConf(conf({ nodename_file: '/etc/tabby/nodename' }));
    expect(resolveNodename(c, src({ '/etc/tabby/nodename': 'n2' }))).to.equal('n2');
    const e = cniError(() => resolveNodename(c, src({})));
    expect(e.code).to.equal(7);
    expect(e.message).to.contain('nodename_file "/etc/tabby/nodename": does not exist');
    expect(resolveNodename(parseNetConf(conf({ nodename_file: '/nope', nodename_file_optional: true })), src({}))).to.equal('host-a');
  });
});

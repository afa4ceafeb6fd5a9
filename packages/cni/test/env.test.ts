// CNI_* environment and CNI_ARGS parsing.
import { expect } from 'chai';
import { CniCode, parseCniArgs, parseCniEnv, podOf } from '@tabby/cni';
import { cniError } from './helpers.js';

const base = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc123', CNI_NETNS: '/var/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin:/usr/lib/cni' };

describe('CNI environment', () => {
  it('reads every variable of an ADD', () => {
    const env = parseCniEnv({ ...base, CNI_ARGS: 'K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-0' });
    expect(env).to.deep.include({ command: 'ADD', containerID: 'abc123', netns: '/var/run/netns/x', ifName: 'eth0', path: ['/opt/cni/bin', '/usr/lib/cni'] });
    expect([...env.args]).to.deep.equal([['K8S_POD_NAMESPACE', 'ns1'], ['K8S_POD_NAME', 'web-0']]);
    expect(podOf(env)).to.deep.equal({ namespace: 'ns1', name: 'web-0' });
  });

  it('VERSION needs nothing but the command', () => {
    expect(parseCniEnv({ CNI_COMMAND: 'VERSION' }).command).to.equal('VERSION');
  });

  it('names missing variables with code 4; DEL does not need CNI_NETNS', () => {
    const e = cniError(() => parseCniEnv({ CNI_COMMAND: 'ADD', CNI_IFNAME: 'eth0' }));
    expect(e.code).to.equal(CniCode.invalidEnvironment).and.to.equal(4);
    expect(e.message).to.equal('required environment variables CNI_CONTAINERID, CNI_NETNS, CNI_PATH not set for ADD');
    const { CNI_NETNS: _n, ...noNetns } = base;
    expect(parseCniEnv({ ...noNetns, CNI_COMMAND: 'DEL' }).netns).to.equal('');
    expect(cniError(() => parseCniEnv({ ...noNetns, CNI_COMMAND: 'CHECK' })).message).to.contain('CNI_NETNS');
  });

  it('refuses a missing or unknown command', () => {
    expect(cniError(() => parseCniEnv({})).message).to.contain('CNI_COMMAND is not set');
    const e = cniError(() => parseCniEnv({ ...base, CNI_COMMAND: 'STATUS' }));
    expect(e.code).to.equal(4);
    expect(e.message).to.contain('CNI_COMMAND: unknown command "STATUS"');
  });

  it('validates the container ID and interface name', () => {
    expect(cniError(() => parseCniEnv({ ...base, CNI_CONTAINERID: '-abc' })).message).to.contain('CNI_CONTAINERID: "-abc"');
    expect(cniError(() => parseCniEnv({ ...base, CNI_CONTAINERID: 'a/b' })).code).to.equal(4);
    expect(cniError(() => parseCniEnv({ ...base, CNI_IFNAME: 'a-very-long-name0' })).message).to.contain('longer than 15');
    expect(cniError(() => parseCniEnv({ ...base, CNI_IFNAME: 'eth/0' })).message).to.contain('CNI_IFNAME: "eth/0" is not a valid interface name');
  });
});

describe('CNI_ARGS', () => {
  it('splits KEY=VALUE pairs on ";" and keeps "=" inside values', () => {
    expect([...parseCniArgs('K8S_POD_NAME=a=b;K8S_POD_UID=u;')]).to.deep.equal([['K8S_POD_NAME', 'a=b'], ['K8S_POD_UID', 'u']]);
    expect(parseCniArgs('').size).to.equal(0);
  });

  it('refuses unknown keys unless IgnoreUnknown is true', () => {
    const e = cniError(() => parseCniArgs('K8S_POD_NAMES=x;FOO=1'));
    expect(e.code).to.equal(4);
    expect(e.message).to.equal('CNI_ARGS: unknown keys K8S_POD_NAMES, FOO (set IgnoreUnknown=1 to ignore)');
    expect(parseCniArgs('IgnoreUnknown=1;FOO=1').get('FOO')).to.equal('1');
    expect(parseCniArgs('IgnoreUnknown=true;FOO=1').size).to.equal(2);
    expect(() => parseCniArgs('IgnoreUnknown=0;FOO=1')).to.throw('unknown key FOO');
    expect(cniError(() => parseCniArgs('IgnoreUnknown=maybe')).message).to.contain('IgnoreUnknown=maybe');
  });

  it('refuses malformed pairs and repeated keys', () => {
    expect(cniError(() => parseCniArgs('K8S_POD_NAME')).message).to.equal('CNI_ARGS: "K8S_POD_NAME" is not a KEY=VALUE pair');
    expect(cniError(() => parseCniArgs('=x')).code).to.equal(4);
    expect(cniError(() => parseCniArgs('K8S_POD_NAME=a;K8S_POD_NAME=b')).message).to.contain('more than once');
  });

  it('podOf names what is missing', () => {
    const e = cniError(() => podOf(parseCniEnv({ ...base, CNI_ARGS: 'K8S_POD_NAMESPACE=ns' })));
    expect(e.code).to.equal(4);
    expect(e.message).to.contain('K8S_POD_NAME missing');
  });
});

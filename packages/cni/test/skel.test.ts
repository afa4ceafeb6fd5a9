// The plugin frame: VERSION, error JSON and codes, results in the config's version, CHECK gating,
// and delegation lookup in CNI_PATH.
import { expect } from 'chai';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '@tabby/test-support';
import { CniCode, CniError, findPlugin, runPlugin, type CallContext, type PluginHandlers } from '@tabby/cni';
import { cniError } from './helpers.js';

const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };
const config = (v = '1.0.0', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cniVersion: v, name: 'net', type: 'tabby', log_level: 'error', ipam: { type: 'tabby-ipam' }, ...extra });

async function call(handlers: Partial<PluginHandlers>, envOver: Record<string, string>, stdin: string): Promise<{ code: number; out: unknown[] }> {
  const out: unknown[] = [];
  const h: PluginHandlers = {
    add: async () => { throw new Error('unexpected ADD'); },
    del: async () => { throw new Error('unexpected DEL'); },
    check: async () => { throw new Error('unexpected CHECK'); },
    ...handlers,
  };
  const code = await runPlugin('test', h, { stdin, env: { ...env, ...envOver }, write: (t) => out.push(JSON.parse(t)) });
  return { code, out };
}

describe('plugin frame', () => {
  it('VERSION prints the supported versions whatever stdin holds', async () => {
    const r = await call({}, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
    expect(r).to.deep.equal({ code: 0, out: [{ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] }] });
  });

  it('ADD prints the handler\'s result in the config\'s version', async () => {
    let seen: CallContext | undefined;
    const add = async (ctx: CallContext) => {
      seen = ctx;
      return { cniVersion: ctx.conf.cniVersion, ips: [{ address: '10.0.0.1/32' }] };
    };
    const r = await call({ add }, {}, config('0.3.1'));
    expect(r).to.deep.equal({ code: 0, out: [{ cniVersion: '0.3.1', ips: [{ version: '4', address: '10.0.0.1/32' }], dns: {} }] });
    expect(seen!.stdin).to.equal(config('0.3.1'));
    expect(seen!.env.containerID).to.equal('c1');
  });

  it('DEL and CHECK print nothing on success', async () => {
    expect(await call({ del: async () => undefined }, { CNI_COMMAND: 'DEL' }, config())).to.deep.equal({ code: 0, out: [] });
    expect(await call({ check: async () => undefined }, { CNI_COMMAND: 'CHECK' }, config('0.4.0'))).to.deep.equal({ code: 0, out: [] });
  });

  it('errors are JSON with the config\'s cniVersion, code and msg, and exit 1', async () => {
    const del = async () => { throw new CniError(CniCode.tryAgainLater, 'etcd is down', 'details here'); };
    expect(await call({ del }, { CNI_COMMAND: 'DEL' }, config('0.4.0'))).to.deep.equal({
      code: 1, out: [{ cniVersion: '0.4.0', code: 11, msg: 'etcd is down', details: 'details here' }],
    });
  });

  it('an unexpected exception is code 999', async () => {
    const r = await call({ add: async () => { throw new TypeError('boom'); } }, {}, config());
    expect(r.code).to.equal(1);
    expect(r.out[0]).to.deep.include({ cniVersion: '1.0.0', code: 999, msg: 'boom' });
  });

  it('environment problems are code 4, config problems code 7, bad JSON code 6', async () => {
    expect((await call({}, { CNI_IFNAME: '' }, config())).out[0]).to.deep.equal({
      cniVersion: '1.0.0', code: 4, msg: 'required environment variable CNI_IFNAME not set for ADD',
    });
    expect((await call({}, {}, config('1.0.0', { mtu: -1 }))).out[0]).to.deep.include({ code: 7 });
    expect((await call({}, {}, 'not json')).out[0]).to.deep.include({ cniVersion: '1.0.0', code: 6 });
  });

  it('CHECK needs a 0.4.0 or newer config', async () => {
    const r = await call({ check: async () => undefined }, { CNI_COMMAND: 'CHECK' }, config('0.3.1'));
    expect(r.code).to.equal(1);
    expect(r.out[0]).to.deep.equal({ cniVersion: '0.3.1', code: 1, msg: 'config version 0.3.1 does not allow CHECK (it needs 0.4.0 or later)' });
  });
});

describe('finding the IPAM plugin in CNI_PATH', () => {
  let dir: string;
  before(() => {
    dir = tmpDir('tabby-cni-path-');
    for (const d of ['a', 'b', 'c']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, 'a', 'ipam'), '#!/bin/sh\n'); // not executable
    mkdirSync(join(dir, 'b', 'ipam')); // a directory
    writeFileSync(join(dir, 'c', 'ipam'), '#!/bin/sh\n');
    chmodSync(join(dir, 'c', 'ipam'), 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the first executable file', () => {
    expect(findPlugin('ipam', [join(dir, 'a'), join(dir, 'b'), join(dir, 'c')])).to.equal(join(dir, 'c', 'ipam'));
  });

  it('names ipam.type and CNI_PATH when there is none', () => {
    const e = cniError(() => findPlugin('ipam', [join(dir, 'a')]));
    expect(e.code).to.equal(7);
    expect(e.message).to.equal(`network config: ipam.type "ipam": no executable plugin of that name in CNI_PATH (${join(dir, 'a')})`);
  });
});

// Which iptables the host uses. iptables-legacy and iptables-nft program different kernel
// subsystems; rules written with one are invisible to the other, so Felix must use the one
// kube-proxy and the host already use. Detection follows Calico's `auto` mode in spirit:
//  1. the backend whose mangle table holds kubelet's/kube-proxy's marker chains
//     (KUBE-IPTABLES-HINT, KUBE-KUBELET-CANARY);
//  2. otherwise the backend with more rules;
//  3. otherwise what plain `iptables --version` reports ("nf_tables" means nft).

import { exec as defaultExec, type Exec } from '@tabby/linux';

export type IptablesBackend = 'legacy' | 'nft';
export type IptablesBackendSetting = IptablesBackend | 'auto';

export interface IptablesCommands {
  save: string;
  restore: string;
  /** The plain command for one-off edits (tests, tamper checks). */
  iptables: string;
}

/** The commands of a backend; for IPv6 (`ipVersion` 6) the ip6tables ones of the same backend. */
export function iptablesCommands(backend: IptablesBackend, ipVersion: 4 | 6 = 4): IptablesCommands {
  const base = ipVersion === 6 ? 'ip6tables' : 'iptables';
  return { save: `${base}-${backend}-save`, restore: `${base}-${backend}-restore`, iptables: `${base}-${backend}` };
}

export interface DetectOptions {
  exec?: Exec;
  netns?: string;
}

const MARKER_CHAINS = [':KUBE-IPTABLES-HINT ', ':KUBE-KUBELET-CANARY '];

async function tryOutput(exec: Exec, cmd: string, args: string[], netns?: string): Promise<string | undefined> {
  try {
    const r = await exec(cmd, args, netns ? { netns } : {});
    return r.code === 0 ? r.stdout : undefined;
  } catch {
    return undefined; // not installed
  }
}

export async function detectIptablesBackend(opts: DetectOptions = {}): Promise<IptablesBackend> {
  const exec = opts.exec ?? defaultExec;
  const backends: IptablesBackend[] = ['legacy', 'nft'];
  const mangle = await Promise.all(backends.map((b) => tryOutput(exec, iptablesCommands(b).save, ['-t', 'mangle'], opts.netns)));
  const hinted = backends.filter((_, i) => MARKER_CHAINS.some((m) => mangle[i]?.includes(m)));
  if (hinted.length === 1) return hinted[0]!;

  const all = await Promise.all(backends.map((b) => tryOutput(exec, iptablesCommands(b).save, [], opts.netns)));
  const counts = all.map((out) => (out ?? '').split('\n').filter((l) => l.startsWith('-A ')).length);
  if (counts[0]! > counts[1]!) return 'legacy';
  if (counts[1]! > counts[0]!) return 'nft';

  const version = await tryOutput(exec, 'iptables', ['--version'], opts.netns);
  if (version === undefined) {
    if (all[1] !== undefined) return 'nft';
    if (all[0] !== undefined) return 'legacy';
    throw new Error('no iptables found: neither iptables-legacy-save nor iptables-nft-save runs (install the iptables package)');
  }
  return version.includes('nf_tables') ? 'nft' : 'legacy';
}

/** Resolves `auto` by detection; explicit settings are returned as given. */
export async function resolveIptablesBackend(setting: IptablesBackendSetting, opts: DetectOptions = {}): Promise<IptablesBackend> {
  if (setting === 'legacy' || setting === 'nft') return setting;
  if (setting !== 'auto') throw new Error(`iptables backend must be auto, legacy or nft, not ${JSON.stringify(setting)}`);
  return detectIptablesBackend(opts);
}

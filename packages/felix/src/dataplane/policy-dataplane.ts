// Wires the policy calculation to the two appliers, in the order the kernel needs:
// IP sets are created/filled first (rules refer to them), then the filter table is written,
// then sets nobody refers to any more are destroyed. One instance per IP family: IPv4 writes
// iptables and cali40 sets, IPv6 (`ipVersion: 6`) ip6tables and cali60 (inet6) sets.

import { exec as defaultExec, type Exec } from '@tabby/linux';
import type { Logger } from '@tabby/log';
import { PolicyCalculator, type PolicyCalculatorOptions } from '../policy/calculator.js';
import { iptablesCommands, resolveIptablesBackend, type IptablesBackend, type IptablesBackendSetting } from './iptables-backend.js';
import { IptablesTable, type ApplyResult } from './iptables-table.js';
import { IpsetApplier, type IpsetApplyResult } from './ipsets.js';

export interface PolicyDataplaneOptions extends PolicyCalculatorOptions {
  /** `auto` (default) detects legacy vs nft like Calico's IptablesBackend=auto (IPv6 uses the same backend's ip6tables). */
  iptablesBackend?: IptablesBackendSetting;
  exec?: Exec;
  netns?: string;
  maxIpsetSize?: number;
  logger?: Logger;
}

export interface PolicyApplyResult {
  ipsets: IpsetApplyResult;
  iptables: ApplyResult;
}

export class PolicyDataplane {
  constructor(readonly calc: PolicyCalculator, readonly iptables: IptablesTable, readonly ipsets: IpsetApplier) {
    if (calc.ipVersion !== iptables.ipVersion || calc.ipVersion !== ipsets.ipVersion) {
      throw new Error(`PolicyDataplane parts disagree on the IP version: calculator ${calc.ipVersion}, iptables ${iptables.ipVersion}, ipsets ${ipsets.ipVersion}`);
    }
    // Everything the calculator already holds is desired; later changes arrive as dirty names.
    iptables.setChains(calc.chains.values());
    ipsets.setSets(calc.ipsets().values());
    calc.takeDirty();
  }

  static async create(opts: PolicyDataplaneOptions): Promise<PolicyDataplane> {
    const where = { ...(opts.exec && { exec: opts.exec }), ...(opts.netns && { netns: opts.netns }) };
    const backend = await resolveIptablesBackend(opts.iptablesBackend ?? 'auto', where);
    const extra = opts.logger ? { logger: opts.logger } : {};
    const ipVersion = opts.ipVersion ?? 4;
    return new PolicyDataplane(
      new PolicyCalculator(opts),
      new IptablesTable({ backend, ipVersion, ...where, ...extra }),
      new IpsetApplier({ ipVersion, ...where, ...extra, ...(opts.maxIpsetSize && { maxSize: opts.maxIpsetSize }) }),
    );
  }

  /** Pushes what changed in the calculator since the last apply to the kernel. */
  async apply(): Promise<PolicyApplyResult> {
    const dirty = this.calc.takeDirty();
    for (const name of dirty.chains) {
      const c = this.calc.chains.get(name);
      if (c) this.iptables.updateChain(c);
      else this.iptables.removeChain(name);
    }
    for (const name of dirty.ipsets) {
      const s = this.calc.ipset(name);
      if (s) this.ipsets.updateSet(s);
      else this.ipsets.removeSet(name);
    }
    try {
      const ipsets = await this.ipsets.apply();
      const iptables = await this.iptables.apply();
      ipsets.deleted = await this.ipsets.applyDeletions();
      return { ipsets, iptables };
    } catch (e) {
      // Whatever failed, the next apply starts from a fresh read of the kernel.
      this.iptables.queueResync();
      this.ipsets.queueResync();
      throw e;
    }
  }

  /** Re-reads the kernel and repairs every difference (Felix's periodic refresh). */
  async resync(): Promise<PolicyApplyResult> {
    this.iptables.queueResync();
    this.ipsets.queueResync();
    return this.apply();
  }

  /** Removes our hooks, chains and sets (e.g. on uninstall or in test cleanup). */
  async uninstall(): Promise<void> {
    this.iptables.setHooksWanted(false);
    this.ipsets.setSets([]);
    await this.iptables.apply();
    await this.ipsets.applyDeletions();
  }
}

/**
 * Can this host (or namespace) take IPv6 policy? Needs IPv6 enabled in the kernel and the
 * backend's ip6tables tools working. Returns the reason when not, undefined when fine.
 */
export async function ipv6PolicyUnavailable(backend: IptablesBackend, where: { exec?: Exec; netns?: string } = {}): Promise<string | undefined> {
  const exec = where.exec ?? defaultExec;
  const opts = where.netns ? { netns: where.netns } : {};
  try {
    const r = await exec('cat', ['/proc/sys/net/ipv6/conf/all/disable_ipv6'], opts);
    if (r.code !== 0) return 'IPv6 is not available in the kernel (no /proc/sys/net/ipv6)';
    if (r.stdout.trim() === '1') return 'IPv6 is disabled (net.ipv6.conf.all.disable_ipv6=1)';
  } catch (e) {
    return `cannot check IPv6 support: ${(e as Error).message}`;
  }
  const save = iptablesCommands(backend, 6).save;
  try {
    const r = await exec(save, ['-t', 'filter'], opts);
    if (r.code !== 0) return `${save} -t filter failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`;
  } catch (e) {
    return `${save} does not run: ${(e as Error).message}`;
  }
  return undefined;
}

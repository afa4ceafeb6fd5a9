// Wires the policy calculation to the two appliers, in the order the kernel needs:
// IP sets are created/filled first (rules refer to them), then the filter table is written,
// then sets nobody refers to any more are destroyed.

import type { Exec } from '@tabby/linux';
import type { Logger } from '@tabby/log';
import { PolicyCalculator, type PolicyCalculatorOptions } from '../policy/calculator.js';
import { resolveIptablesBackend, type IptablesBackendSetting } from './iptables-backend.js';
import { IptablesTable, type ApplyResult } from './iptables-table.js';
import { IpsetApplier, type IpsetApplyResult } from './ipsets.js';

export interface PolicyDataplaneOptions extends PolicyCalculatorOptions {
  /** `auto` (default) detects legacy vs nft like Calico's IptablesBackend=auto. */
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
    // Everything the calculator already holds is desired; later changes arrive as dirty names.
    iptables.setChains(calc.chains.values());
    ipsets.setSets(calc.ipsets().values());
    calc.takeDirty();
  }

  static async create(opts: PolicyDataplaneOptions): Promise<PolicyDataplane> {
    const where = { ...(opts.exec && { exec: opts.exec }), ...(opts.netns && { netns: opts.netns }) };
    const backend = await resolveIptablesBackend(opts.iptablesBackend ?? 'auto', where);
    const extra = opts.logger ? { logger: opts.logger } : {};
    return new PolicyDataplane(
      new PolicyCalculator(opts),
      new IptablesTable({ backend, ...where, ...extra }),
      new IpsetApplier({ ...where, ...extra, ...(opts.maxIpsetSize && { maxSize: opts.maxIpsetSize }) }),
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

// The iptables table applier (filter by default, nat for NAT outgoing): keeps the desired cali-* chains, rewrites only what differs from
// the kernel with one `iptables-restore --noflush` transaction per apply, and repairs drift on
// resync.
//
// Kernel and tool quirks this handles:
//  * A `:chain - [0:0]` line in a --noflush restore creates the chain or, if it exists,
//    flushes it: so a changed chain is declared and refilled as a whole, atomically with
//    everything else in the transaction (both iptables-legacy and iptables-nft behave so).
//  * A chain can only be deleted (-X) when nothing refers to it. Deleted chains are flushed
//    first and their referrers rewritten in the same transaction, then removed at its end.
//  * Our rules are recognised by their `cali:<hash>` comment, never by parsing matches back, so
//    the read-back is stable across iptables versions and backends.
//  * The hooks from the kernel chains (INPUT/FORWARD/OUTPUT) are inserted at the top once;
//    a resync deletes misplaced or duplicate ones (by index, highest first) and re-inserts.
//  * Anything may change the kernel behind our back: a failed restore or a resync re-reads the
//    table; the next apply rewrites every chain whose hashes differ.

import { exec as defaultExec, type Exec } from '@tabby/linux';
import type { Logger } from '@tabby/log';
import { CHAIN_PREFIX, FILTER_HOOKS, type Chain, type Rule } from '../policy/model.js';
import { renderChainRules, renderRule, ruleHashes } from '../policy/render.js';
import { iptablesCommands, type IptablesBackend } from './iptables-backend.js';
import { parseIptablesSave, type SavedTable } from './iptables-save.js';

export interface IptablesTableOptions {
  backend: IptablesBackend;
  exec?: Exec;
  /** Run every command inside this network namespace. */
  netns?: string;
  logger?: Logger;
  /** xtables lock wait in seconds (legacy backend; default 10). */
  lockWaitSeconds?: number;
  /** 4 (default): iptables; 6: the ip6tables commands of the same backend. */
  ipVersion?: 4 | 6;
  /** Table to manage (default `filter`). */
  table?: string;
  /** Kernel chains hooked to our chains (default: the filter hooks INPUT/FORWARD/OUTPUT). */
  hooks?: ReadonlyArray<{ kernel: string; chain: string }>;
}

export interface ApplyResult {
  /** Chains declared and refilled. */
  written: string[];
  /** Chains removed. */
  deleted: string[];
  /** Kernel chains whose hook rules were (re)inserted. */
  hooksFixed: string[];
}

interface Hook { kernel: string; rule: Rule; hash: string }

export class IptablesTable {
  readonly #exec: Exec;
  readonly #opts: IptablesTableOptions;
  readonly #desired = new Map<string, { chain: Chain; hashes: string[] }>();
  /** Our view of the kernel: chain -> rule hashes; null until read. */
  #actual: SavedTable | null = null;
  /**
   * Chains set or removed since the last successful apply. While the kernel view is cached only
   * these (and the hooks) are compared, so a change costs O(changed chains), not O(all chains).
   */
  readonly #dirty = new Set<string>();
  #hooksWanted = true;
  readonly #hooks: Hook[];

  constructor(opts: IptablesTableOptions) {
    this.#opts = opts;
    this.#exec = opts.exec ?? defaultExec;
    this.#hooks = (opts.hooks ?? FILTER_HOOKS).map(({ kernel, chain }) => {
      const rule: Rule = { match: [], action: { kind: 'jump', target: chain } };
      return { kernel, rule, hash: ruleHashes(kernel, [rule])[0]! };
    });
  }

  get table(): string {
    return this.#opts.table ?? 'filter';
  }

  get ipVersion(): 4 | 6 {
    return this.#opts.ipVersion ?? 4;
  }

  get backend(): IptablesBackend {
    return this.#opts.backend;
  }

  /** Replaces the whole desired set of chains. */
  setChains(chains: Iterable<Chain>): void {
    this.#desired.clear();
    for (const c of chains) this.updateChain(c);
  }

  updateChain(chain: Chain): void {
    if (!chain.name.startsWith(CHAIN_PREFIX)) throw new Error(`chain ${JSON.stringify(chain.name)} does not start with ${CHAIN_PREFIX}`);
    this.#desired.set(chain.name, { chain, hashes: ruleHashes(chain.name, chain.rules) });
    this.#dirty.add(chain.name);
  }

  removeChain(name: string): void {
    this.#desired.delete(name);
    this.#dirty.add(name);
  }

  /** Whether the hooks from INPUT/FORWARD/OUTPUT should exist (false to uninstall everything). */
  setHooksWanted(wanted: boolean): void {
    this.#hooksWanted = wanted;
    this.#actual = null; // compare everything next time
  }

  /** Forget the cached kernel state; the next apply re-reads it and repairs every difference. */
  queueResync(): void {
    this.#actual = null;
  }

  async #run(cmd: string, args: string[], input?: string): Promise<string> {
    const opts = { ...(this.#opts.netns && { netns: this.#opts.netns }), ...(input !== undefined && { input }) };
    const r = await this.#exec(cmd, args, opts);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }

  async readKernel(): Promise<SavedTable> {
    const out = await this.#run(iptablesCommands(this.#opts.backend, this.ipVersion).save, ['-t', this.table]);
    return parseIptablesSave(out, this.table);
  }

  /** Brings the kernel in line with the desired chains; one atomic transaction. */
  async apply(): Promise<ApplyResult> {
    const fresh = this.#actual === null;
    const actual = this.#actual ?? (this.#actual = await this.readKernel());
    // After a fresh read every chain is compared; otherwise only those changed since.
    const candidates = fresh ? [...new Set([...actual.chains.keys(), ...this.#desired.keys()])] : [...this.#dirty];
    const ourChains = candidates.filter((n) => n.startsWith(CHAIN_PREFIX) && actual.chains.has(n));
    const write: string[] = [];
    let remove: string[];
    if (this.#hooksWanted) {
      for (const name of candidates) {
        const d = this.#desired.get(name);
        if (!d) continue;
        const have = actual.chains.get(name);
        if (!have || have.length !== d.hashes.length || have.some((r, i) => r.hash !== d.hashes[i])) write.push(name);
      }
      remove = ourChains.filter((n) => !this.#desired.has(n));
    } else {
      remove = fresh ? ourChains : [...actual.chains.keys()].filter((n) => n.startsWith(CHAIN_PREFIX)); // uninstalling: nothing of ours stays
    }
    this.#dirty.clear();

    const hookLines: string[] = [];
    const hooksFixed: string[] = [];
    for (const hook of this.#hooks) {
      const rules = actual.chains.get(hook.kernel) ?? [];
      const ours = rules.flatMap((r, i) => (r.hash !== undefined ? [i] : []));
      const ok = this.#hooksWanted ? ours.length === 1 && ours[0] === 0 && rules[0]!.hash === hook.hash : ours.length === 0;
      if (ok) continue;
      hooksFixed.push(hook.kernel);
      for (const i of ours.reverse()) hookLines.push(`-D ${hook.kernel} ${i + 1}`);
      if (this.#hooksWanted) hookLines.push(`-I ${hook.kernel} 1 ${renderRule(hook.rule, hook.hash)}`);
    }
    const result: ApplyResult = { written: write, deleted: remove, hooksFixed };
    if (write.length === 0 && remove.length === 0 && hookLines.length === 0) return result;

    const lines = [`*${this.table}`];
    for (const n of [...write, ...remove]) lines.push(`:${n} - [0:0]`);
    // Hook deletions first (they may refer to chains removed below), insertions need the chains declared above.
    lines.push(...hookLines);
    for (const n of write) {
      const d = this.#desired.get(n)!;
      for (const l of renderChainRules(d.chain, d.hashes)) lines.push(l);
    }
    for (const n of remove) lines.push(`-X ${n}`);
    lines.push('COMMIT', '');
    const args = ['--noflush'];
    if (this.#opts.backend === 'legacy') args.push('--wait', String(this.#opts.lockWaitSeconds ?? 10));
    try {
      await this.#run(iptablesCommands(this.#opts.backend, this.ipVersion).restore, args, lines.join('\n'));
    } catch (e) {
      this.#actual = null; // the kernel may differ from what we thought: re-read next time
      throw e;
    }
    // Record what the kernel now holds.
    for (const n of write) actual.chains.set(n, this.#desired.get(n)!.hashes.map((hash) => ({ hash })));
    for (const n of remove) actual.chains.delete(n);
    for (const hook of this.#hooks) {
      if (!hooksFixed.includes(hook.kernel)) continue;
      const others = (actual.chains.get(hook.kernel) ?? []).filter((r) => r.hash === undefined);
      actual.chains.set(hook.kernel, this.#hooksWanted ? [{ hash: hook.hash }, ...others] : others);
    }
    this.#opts.logger?.debug('iptables applied', { written: write.length, deleted: remove.length, hooks: hooksFixed });
    return result;
  }
}

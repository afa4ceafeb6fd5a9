// The IP set applier: keeps the desired cali40* (or, for IPv6, cali60* family inet6) sets and brings the kernel in line with
// `ipset restore` batches.
//
// Kernel and tool quirks this handles:
//  * A set referenced by an iptables rule cannot be destroyed, so deletions are a separate step
//    (`applyDeletions`) to run after iptables stopped referring to them; creations and member
//    changes (`apply`) run before iptables is written.
//  * Small membership changes are `add`/`del` deltas. When most of a set must change (e.g. it
//    was flushed behind our back) or its metadata differs, a temporary set (`cali4t<n>`) is
//    filled and `swap`ped in, so rules using the set never see it half-filled.
//  * `swap` only works between sets of the same type; a set of the wrong type is destroyed and
//    recreated (which fails while a rule still references it, and is retried after a resync).
//  * `ipset save` prints hash:net /32 (/128) members without the prefix; members are normalised.
//  * The IPv4 and IPv6 appliers share the kernel's set namespace: each reads, writes and
//    deletes only the sets of its own family prefix, so neither ever touches the other's.

import { exec as defaultExec, type Exec } from '@tabby/linux';
import type { Logger } from '@tabby/log';
import type { IpSetSpec } from '../policy/model.js';
import { isOurIpset, tempIpsetName, type IpVersion } from '../policy/names.js';

export interface IpsetApplierOptions {
  exec?: Exec;
  netns?: string;
  /** maxelem of created sets (Felix's MaxIpsetSize, default 1048576). */
  maxSize?: number;
  logger?: Logger;
  /** 4 (default): `cali40`/`cali4t` sets, family inet; 6: `cali60`/`cali6t` sets, family inet6. */
  ipVersion?: IpVersion;
}

export interface KernelIpset {
  type: string;
  maxelem: number | undefined;
  members: Set<string>;
}

export interface IpsetApplyResult {
  created: string[];
  updated: string[];
  rewritten: string[];
  deleted: string[];
}

/** Parses `ipset save` output, keeping only our sets of this IP version. */
export function parseIpsetSave(text: string, version: IpVersion = 4): Map<string, KernelIpset> {
  const sets = new Map<string, KernelIpset>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'create' && f[1] && isOurIpset(f[1], version)) {
      const mi = f.indexOf('maxelem');
      sets.set(f[1], { type: f[2] ?? '', maxelem: mi > 0 ? Number(f[mi + 1]) : undefined, members: new Set() });
    } else if (f[0] === 'add' && f[1] && f[2]) {
      const s = sets.get(f[1]);
      if (s) s.members.add(normaliseMember(s.type, f[2]));
    }
  }
  return sets;
}

export function normaliseMember(type: string, m: string): string {
  if (type === 'hash:net' && !m.includes('/')) return m.includes(':') ? `${m}/128` : `${m}/32`;
  return m;
}

export class IpsetApplier {
  readonly #exec: Exec;
  readonly #opts: IpsetApplierOptions;
  readonly #desired = new Map<string, IpSetSpec>();
  #actual: Map<string, KernelIpset> | null = null;
  /** Sets changed since the last successful apply; only these are compared while the kernel view is cached. */
  readonly #dirty = new Set<string>();
  #tempCounter = 0;

  constructor(opts: IpsetApplierOptions = {}) {
    this.#opts = opts;
    this.#exec = opts.exec ?? defaultExec;
  }

  get ipVersion(): IpVersion {
    return this.#opts.ipVersion ?? 4;
  }

  get maxSize(): number {
    return this.#opts.maxSize ?? 1048576;
  }

  setSets(sets: Iterable<IpSetSpec>): void {
    this.#desired.clear();
    for (const s of sets) this.updateSet(s);
  }

  updateSet(set: IpSetSpec): void {
    if (!isOurIpset(set.name, this.ipVersion) || set.name.length > 31) throw new Error(`IP set name ${JSON.stringify(set.name)} is not a cali${this.ipVersion}0 name of at most 31 characters`);
    this.#desired.set(set.name, { ...set, members: new Set([...set.members].map((m) => normaliseMember(set.type, m))) });
    this.#dirty.add(set.name);
  }

  removeSet(name: string): void {
    this.#desired.delete(name);
    this.#dirty.add(name);
  }

  queueResync(): void {
    this.#actual = null;
  }

  async #run(args: string[], input?: string): Promise<string> {
    const opts = { ...(this.#opts.netns && { netns: this.#opts.netns }), ...(input !== undefined && { input }) };
    const r = await this.#exec('ipset', args, opts);
    if (r.code !== 0) throw new Error(`ipset ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }

  async readKernel(): Promise<Map<string, KernelIpset>> {
    return parseIpsetSave(await this.#run(['save']), this.ipVersion);
  }

  async #restore(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    try {
      await this.#run(['restore'], [...lines, 'COMMIT', ''].join('\n'));
    } catch (e) {
      this.#actual = null;
      throw e;
    }
  }

  #createLine(name: string, type: string): string {
    return `create ${name} ${type} family ${this.ipVersion === 6 ? 'inet6' : 'inet'} maxelem ${this.maxSize}`;
  }

  /** Creates missing sets and fixes members; never deletes a set (see applyDeletions). */
  async apply(): Promise<IpsetApplyResult> {
    const fresh = this.#actual === null;
    const actual = this.#actual ?? (this.#actual = await this.readKernel());
    const result: IpsetApplyResult = { created: [], updated: [], rewritten: [], deleted: [] };
    const lines: string[] = [];
    const names = fresh ? [...this.#desired.keys()] : [...this.#dirty].filter((n) => this.#desired.has(n));
    this.#dirty.clear();
    for (const name of names) {
      const want = this.#desired.get(name)!;
      const have = actual.get(name);
      if (!have || have.type !== want.type) {
        if (have) lines.push(`destroy ${name}`);
        lines.push(this.#createLine(name, want.type));
        for (const m of want.members) lines.push(`add ${name} ${m}`);
        result.created.push(name);
        continue;
      }
      const adds = [...want.members].filter((m) => !have.members.has(m));
      const dels = [...have.members].filter((m) => !want.members.has(m));
      const metadataDiffers = have.maxelem !== this.maxSize;
      if (adds.length === 0 && dels.length === 0 && !metadataDiffers) continue;
      if (metadataDiffers || (want.members.size > 0 && adds.length + dels.length >= want.members.size)) {
        let temp: string;
        do temp = tempIpsetName(this.#tempCounter++, this.ipVersion); while (actual.has(temp));
        lines.push(this.#createLine(temp, want.type), `flush ${temp}`);
        for (const m of want.members) lines.push(`add ${temp} ${m}`);
        lines.push(`swap ${temp} ${name}`, `destroy ${temp}`);
        result.rewritten.push(name);
      } else {
        for (const m of dels) lines.push(`del ${name} ${m} -exist`);
        for (const m of adds) lines.push(`add ${name} ${m} -exist`);
        result.updated.push(name);
      }
    }
    await this.#restore(lines);
    for (const name of [...result.created, ...result.updated, ...result.rewritten]) {
      const want = this.#desired.get(name)!;
      actual.set(name, { type: want.type, maxelem: this.maxSize, members: new Set(want.members) });
    }
    if (lines.length) this.#opts.logger?.debug('ipsets applied', { ...result });
    return result;
  }

  /** Destroys our sets that are no longer desired (run after iptables stopped using them). */
  async applyDeletions(): Promise<string[]> {
    const actual = this.#actual ?? (this.#actual = await this.readKernel());
    const gone = [...actual.keys()].filter((n) => !this.#desired.has(n));
    await this.#restore(gone.map((n) => `destroy ${n}`));
    for (const n of gone) actual.delete(n);
    return gone;
  }
}

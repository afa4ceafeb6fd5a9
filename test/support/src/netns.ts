// Network namespaces for tests: per-run names so parallel runs never collide, and removal
// even when a test fails or the process exits early.

import { spawnSync } from 'node:child_process';

const created = new Set<string>();
let counter = 0;

process.on('exit', () => {
  for (const ns of created) spawnSync('ip', ['netns', 'del', ns]);
});

export interface Netns {
  name: string;
  /** Runs a command inside the namespace; throws with stderr on a non-zero exit. */
  run(cmd: string, args: readonly string[], input?: string): string;
  /** Like run but returns the exit code and output instead of throwing. */
  tryRun(cmd: string, args: readonly string[]): { code: number; stdout: string; stderr: string };
  delete(): void;
}

function sh(argv: readonly string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: input ?? '' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
}

export function hostRun(argv: readonly string[], input?: string): string {
  const r = sh(argv, input);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Creates a namespace named `tabby-<pid>-<n>-<tag>` with loopback up. */
export function createNetns(tag: string): Netns {
  const name = `tabby-${process.pid}-${++counter}-${tag}`;
  hostRun(['ip', 'netns', 'add', name]);
  created.add(name);
  hostRun(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  return {
    name,
    run: (cmd, args, input) => hostRun(['ip', 'netns', 'exec', name, cmd, ...args], input),
    tryRun: (cmd, args) => sh(['ip', 'netns', 'exec', name, cmd, ...args]),
    delete: () => {
      if (created.delete(name)) sh(['ip', 'netns', 'del', name]);
    },
  };
}

/** A veth pair with one end in each namespace (both may be the same namespace). */
export function vethPair(a: Netns, ifA: string, b: Netns, ifB: string): void {
  hostRun(['ip', 'link', 'add', ifA, 'netns', a.name, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.name]);
  hostRun(['ip', '-n', a.name, 'link', 'set', ifA, 'up']);
  hostRun(['ip', '-n', b.name, 'link', 'set', ifB, 'up']);
}

export interface LinkEnd {
  /** Namespace tag (see createNetns). */
  tag: string;
  dev: string;
  /** Address with prefix length, e.g. 10.200.0.1/24. */
  addr: string;
}

/** Two new namespaces joined by a veth pair, each end up with its address; nothing is left behind if a step fails. */
export function linkedNetns(a: LinkEnd, b: LinkEnd): [Netns, Netns] {
  const made: Netns[] = [];
  try {
    made.push(createNetns(a.tag), createNetns(b.tag));
    const [na, nb] = made as [Netns, Netns];
    vethPair(na, a.dev, nb, b.dev);
    na.run('ip', ['addr', 'add', a.addr, 'dev', a.dev]);
    nb.run('ip', ['addr', 'add', b.addr, 'dev', b.dev]);
    return [na, nb];
  } catch (e) {
    for (const n of made) n.delete();
    throw e;
  }
}

/**
 * True once `dev` in `ns` has its IPv6 link-local address and that address is out of duplicate
 * address detection. Daemons started before then see the address arrive a second or so later
 * (BIRD 1.6 drops its IPv6 BGP session with "Neighbor lost" when it does).
 */
export function linkLocalReady(ns: Netns, dev: string): boolean {
  const [link] = JSON.parse(ns.run('ip', ['-j', '-6', 'addr', 'show', 'dev', dev, 'scope', 'link'])) as { addr_info: { local?: string; scope?: string; tentative?: boolean }[] }[];
  const a = link?.addr_info.find((i) => i.scope === 'link' && typeof i.local === 'string');
  return !!a && !a.tentative;
}

/** Namespaces this process created and has not deleted yet (for leak assertions). */
export function liveNetns(): string[] {
  return [...created];
}

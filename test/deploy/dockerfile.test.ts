// The Dockerfile cannot be built here (no container runtime), so its structure is checked: every
// path it copies from the build context exists and is not ignored, every workspace's manifest is
// there for `npm ci`, the packages the agent starts are compiled, and the entrypoint resolves to
// the node agent's built program.
import { expect } from 'chai';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, parseDockerfile, copyParts, dockerIgnored, exists, loadManifest, named, type Instruction } from './lib.js';

const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const ins = parseDockerfile(text);
const stages = Math.max(...ins.map((i) => i.stage)) + 1;
const build = ins.filter((i) => i.stage === 0);
const runtime = ins.filter((i) => i.stage === stages - 1);
const workspaces = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;

/** Workspace directories (the globs of package.json expanded the simple way: "dir/*"). */
function workspaceDirs(): string[] {
  const out: string[] = [];
  for (const w of workspaces) {
    if (w.endsWith('/*')) {
      const base = w.slice(0, -2);
      for (const d of readdirSync(join(ROOT, base))) if (existsSync(join(ROOT, base, d, 'package.json'))) out.push(`${base}/${d}`);
    } else out.push(w);
  }
  return out;
}

describe('deploy: Dockerfile', () => {
  it('is multi-stage: a node:20 build stage and a Debian node:20-slim runtime', () => {
    const froms = ins.filter((i) => i.op === 'FROM').map((i) => i.args);
    expect(froms.length).to.be.at.least(2);
    expect(froms[0]).to.match(/^node:20(-bookworm)?\s+AS\s+build$/i);
    expect(froms[froms.length - 1]).to.match(/^node:20-(bookworm-)?slim$/);
  });

  it('copies only paths that exist in the repository and are not excluded by .dockerignore', () => {
    const copies = ins.filter((i) => (i.op === 'COPY' || i.op === 'ADD') && !copyParts(i.args).from);
    expect(copies.length).to.be.above(5);
    for (const c of copies) {
      for (const src of copyParts(c.args).sources) {
        const p = src.replace(/\/$/, '');
        expect(exists(p), `Dockerfile line ${c.line}: ${src} does not exist`).to.equal(true);
        expect(dockerIgnored(p), `Dockerfile line ${c.line}: ${src} is excluded by .dockerignore`).to.equal(undefined);
      }
    }
  });

  it('has every workspace manifest in place before npm ci, and the lock file', () => {
    const ci = build.findIndex((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
    expect(ci, 'npm ci in the build stage').to.be.above(-1);
    const before = build.slice(0, ci).filter((i) => i.op === 'COPY').flatMap((i) => copyParts(i.args).sources);
    for (const f of ['package.json', 'package-lock.json']) expect(before, f).to.include(f);
    const dirs = workspaceDirs();
    expect(dirs.length).to.be.above(5);
    for (const d of dirs) expect(before, `${d}/package.json copied before npm ci`).to.include(`${d}/package.json`);
  });

  it('compiles the agent and every program it starts, and prunes dev dependencies', () => {
    const tsc = build.find((i) => i.op === 'RUN' && /tsc -b/.test(i.args));
    expect(tsc, 'tsc -b').to.not.equal(undefined);
    const built = tsc!.args.split(/\s+/).filter((w) => w.startsWith('packages/'));
    // The agent's children: the BINS table in packages/node/src/main.ts names their programs.
    const mainSrc = readFileSync(join(ROOT, 'packages/node/src/main.ts'), 'utf8');
    const children = [...mainSrc.matchAll(/bin\('\.\.\/\.\.\/(\w+)\/bin\/[\w.-]+'\)/g)].map((m) => `packages/${m[1]}`);
    expect(children).to.include.members(['packages/felix', 'packages/confd', 'packages/bgpd']);
    for (const p of ['packages/node', 'packages/ctl', 'packages/cni', ...children]) expect(built, `${p} compiled`).to.include(p);
    for (const p of built) expect(exists(join(p, 'tsconfig.json')), `${p} is a TS project`).to.equal(true);
    expect(build.some((i) => i.op === 'RUN' && /npm prune --omit=dev/.test(i.args)), 'dev dependencies pruned').to.equal(true);
    expect(build.some((i) => i.op === 'RUN' && /build-cni-sea\.sh/.test(i.args)), 'CNI executable built').to.equal(true);
  });

  it('installs the dataplane tools felix and the agent run', () => {
    const apt = runtime.filter((i: Instruction) => i.op === 'RUN' && /apt-get install/.test(i.args)).map((i) => i.args).join(' ');
    for (const pkg of ['iproute2', 'iptables', 'ipset']) expect(apt, pkg).to.match(new RegExp(`\\b${pkg}\\b`));
  });

  it('carries every plugin the manifests\' conflists chain after tabby, where install-cni takes it from', () => {
    const apt = runtime.filter((i: Instruction) => i.op === 'RUN' && /apt-get install/.test(i.args)).map((i) => i.args).join(' ');
    const runs = runtime.filter((i: Instruction) => i.op === 'RUN').map((i) => i.args).join(' ');
    for (const file of ['tabby.yaml', 'tabby-etcd.yaml']) {
      const cm = named(loadManifest(file), 'ConfigMap', 'tabby-config')!;
      const list = JSON.parse(String(cm['data']['cni_network_config']).replace(/__CNI_MTU__/g, '0')) as { plugins: { type: string }[] };
      for (const { type } of list.plugins.slice(1)) {
        // Debian's containernetworking-plugins puts them in /usr/lib/cni; the image copies each one
        // next to the tabby executable, the directory install-cni copies from.
        expect(apt, `${file}: ${type} comes from containernetworking-plugins`).to.match(/\bcontainernetworking-plugins\b/);
        expect(runs, `${file}: ${type} put into /opt/tabby/cni-bin`).to.include(`/usr/lib/cni/${type} /opt/tabby/cni-bin/${type}`);
      }
    }
  });

  it('has an entrypoint that resolves to the node agent\'s built program', () => {
    const ep = runtime.filter((i) => i.op === 'ENTRYPOINT').pop();
    expect(ep, 'ENTRYPOINT').to.not.equal(undefined);
    const argv = JSON.parse(ep!.args) as string[];
    // Follow `ln -s` links made in the runtime stage, then map the image's WORKDIR back to the repo.
    const links = new Map<string, string>();
    for (const r of runtime.filter((i) => i.op === 'RUN')) for (const m of r.args.matchAll(/ln -s (\S+) (\S+)/g)) links.set(m[2]!, m[1]!);
    const workdir = runtime.filter((i) => i.op === 'WORKDIR').pop()!.args;
    const target = links.get(argv[0]!) ?? argv[0]!;
    expect(target.startsWith(workdir + '/'), `${target} inside WORKDIR ${workdir}`).to.equal(true);
    const repoPath = target.slice(workdir.length + 1);
    // That directory is copied from the build stage, where it is the repository's.
    const top = repoPath.split('/')[0]!;
    expect(runtime.some((i) => i.op === 'COPY' && copyParts(i.args).from === 'build' && copyParts(i.args).sources.some((s) => s.replace(/\/$/, '') === `/src/${top}`)), `${top}/ copied from the build stage`).to.equal(true);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/node/package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(repoPath).to.equal(`packages/node/${pkg.bin['tabby-node']}`);
    // The program imports the compiled agent: it must be built (npx tsc -b ran before these tests).
    const prog = readFileSync(join(ROOT, repoPath), 'utf8');
    const imported = /from '(\.\.\/dist\/[\w/.-]+\.js)'/.exec(prog)?.[1];
    expect(imported, 'tabby-node imports its dist').to.be.a('string');
    expect(existsSync(join(ROOT, 'packages/node/bin', imported!)), `${imported} built`).to.equal(true);
    // Every link the image makes points at a file that exists in the repository (after the build).
    for (const [link, to] of links) if (to.startsWith(workdir + '/')) expect(exists(to.slice(workdir.length + 1)), `${link} -> ${to}`).to.equal(true);
  });

  it('.dockerignore keeps local builds and dependencies out of the context', () => {
    for (const p of ['node_modules', 'packages/cni/node_modules', 'packages/node/dist', '.git', 'packages/bgpd/test']) expect(dockerIgnored(p), p).to.be.a('string');
    for (const p of ['packages/node/src/main.ts', 'package-lock.json', 'deploy/install-cni.sh']) expect(dockerIgnored(p), p).to.equal(undefined);
  });
});

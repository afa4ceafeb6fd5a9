// The host-wide IPAM lock (flock(2) through flock(1) on a shared descriptor): holders exclude
// each other across processes, a waiter gets in when the holder releases or dies, a lock held too
// long is a try-again error naming the file, and a lock that cannot be had at all is skipped.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '@tabby/test-support';
import { acquireIpamLock, CniCode, CniError } from '@tabby/cni';

interface Entry { level: string; msg: string }

function recorder() {
  const entries: Entry[] = [];
  return {
    entries,
    warn: (msg: string) => void entries.push({ level: 'warn', msg }),
    debug: (msg: string) => void entries.push({ level: 'debug', msg }),
  };
}

/** A separate process that takes the lock and says so on stdout, then holds it until killed. */
async function holdInChild(dir: string, path: string): Promise<ChildProcess> {
  const script = join(dir, 'hold.mjs');
  writeFileSync(script, `import { acquireIpamLock } from ${JSON.stringify(import.meta.resolve('@tabby/cni'))};
await acquireIpamLock(${JSON.stringify(path)}, 5000, { warn: (m) => console.error(m), debug: () => {} });
console.log('locked');
setInterval(() => {}, 1000);
`);
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { if (d.includes('locked')) resolve(); });
    child.on('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
  return child;
}

describe('cni: host-wide IPAM lock', function () {
  this.timeout(20_000);
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(() => { dir = tmpDir('tabby-ipam-lock-'); });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('a second holder waits until the first releases', async () => {
    const path = join(dir, 'sub', 'ipam.lock');
    const log = recorder();
    const first = await acquireIpamLock(path, 1000, log);
    let second: { release(): void } | undefined;
    const waiting = acquireIpamLock(path, 10_000, log).then((l) => { second = l; });
    await new Promise((r) => setTimeout(r, 500));
    expect(second, 'still waiting while the first holds the lock').to.equal(undefined);
    first.release();
    first.release(); // idempotent
    await waiting;
    expect(second).to.not.equal(undefined);
    second!.release();
    expect(log.entries.filter((e) => e.level === 'warn')).to.deep.equal([]);
  });

  it('a lock held by another process past the wait is a try-again error naming the file; its death frees the lock', async () => {
    const path = join(dir, 'ipam.lock');
    const holder = await holdInChild(dir, path);
    children.push(holder);
    const err = await acquireIpamLock(path, 300, recorder()).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(CniError);
    expect((err as CniError).code).to.equal(CniCode.tryAgainLater);
    expect((err as CniError).message).to.equal(`IPAM lock ${path}: still held by another plugin run after 0.3 s`);
    // SIGKILL: nothing of the holder runs, the kernel drops its lock.
    holder.kill('SIGKILL');
    const lock = await acquireIpamLock(path, 5000, recorder());
    lock.release();
  });

  it('goes on without the lock, with a warning, when the lock file cannot be made or flock(1) is missing', async () => {
    const log = recorder();
    writeFileSync(join(dir, 'file'), '');
    (await acquireIpamLock(join(dir, 'file', 'ipam.lock'), 1000, log)).release();
    expect(log.entries.map((e) => `${e.level} ${e.msg}`)).to.deep.equal(['warn cannot open the IPAM lock file; going on without the lock']);
    const path = process.env['PATH'];
    process.env['PATH'] = join(dir, 'empty');
    try {
      (await acquireIpamLock(join(dir, 'ipam.lock'), 1000, log)).release();
    } finally {
      process.env['PATH'] = path;
    }
    expect(log.entries[1]?.msg).to.equal('cannot run flock(1) for the IPAM lock; going on without the lock');
  });

  it('an empty path turns the lock off', async () => {
    const log = recorder();
    const a = await acquireIpamLock('', 100, log);
    const b = await acquireIpamLock('', 100, log);
    a.release();
    b.release();
    expect(log.entries).to.deep.equal([]);
  });
});

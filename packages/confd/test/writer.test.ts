import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, tmpDir } from '@tabby/test-support';
import { reload, ReloadError, writeIfChanged } from '@tabby/confd';

describe('confd writer and reload', () => {
  let dir: string;
  beforeEach(() => { dir = tmpDir('tabby-confd-writer-'); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a new file, leaves an identical one alone, replaces a different one by rename', async () => {
    const f = join(dir, 'bgpd.yaml');
    expect(await writeIfChanged(f, 'a: 1\n')).to.equal(true);
    const ino = statSync(f).ino;
    expect(await writeIfChanged(f, 'a: 1\n')).to.equal(false);
    expect(statSync(f).ino).to.equal(ino);
    expect(await writeIfChanged(f, 'a: 2\n')).to.equal(true);
    expect(readFileSync(f, 'utf8')).to.equal('a: 2\n');
    expect(statSync(f).ino, 'a new inode: the file was renamed into place, not rewritten').to.not.equal(ino);
    expect(readdirSync(dir)).to.deep.equal(['bgpd.yaml']);
  });

  it('fails (leaving no temp file) when the directory does not exist', async () => {
    let err: unknown;
    try { await writeIfChanged(join(dir, 'missing', 'x.yaml'), 'x'); } catch (e) { err = e; }
    expect((err as NodeJS.ErrnoException).code).to.equal('ENOENT');
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('runs a reload command and reports its failure', async () => {
    const script = join(dir, 'hook.sh');
    writeFileSync(script, `echo hup >> "${join(dir, 'count')}"\n`);
    await reload({ kind: 'command', argv: ['/bin/sh', script] });
    await reload({ kind: 'command', argv: ['/bin/sh', script] });
    expect(readFileSync(join(dir, 'count'), 'utf8')).to.equal('hup\nhup\n');
    let err: unknown;
    try { await reload({ kind: 'command', argv: ['/bin/sh', '-c', 'echo nope >&2; exit 3'] }); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(ReloadError);
    expect((err as Error).message).to.match(/exit 3.*nope/);
  });

  it('sends SIGHUP to the PID in a pid file', async () => {
    const marker = join(dir, 'hupped');
    const child = spawn(process.execPath, ['-e', `process.on('SIGHUP', () => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); process.exit(0); }); console.log('ready'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((res) => child.stdout!.once('data', () => res()));
      writeFileSync(join(dir, 'pid'), `${child.pid}\n`);
      await reload({ kind: 'pidfile', path: join(dir, 'pid') });
      await eventually(() => existsSync(marker), 10_000, 'the child to get SIGHUP');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    writeFileSync(join(dir, 'bad'), 'not-a-pid');
    let err: unknown;
    try { await reload({ kind: 'pidfile', path: join(dir, 'bad') }); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(ReloadError);
  });
});

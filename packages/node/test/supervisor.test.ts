// The supervisor with real child processes.
import { expect } from 'chai';
import { rmSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@tabby/log';
import { tmpDir, eventually } from '@tabby/test-support';
import { Supervisor } from '@tabby/node';

describe('node agent: supervisor', function () {
  this.timeout(30_000);
  const log = createLogger('sup-test', { level: 'error' });
  let dir: string;
  let sup: Supervisor | undefined;
  beforeEach(() => { dir = tmpDir('tabby-sup-'); });
  afterEach(async () => {
    await sup?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('restarts a child that exits, with a growing backoff, and reports it', async () => {
    const marks = join(dir, 'runs');
    sup = new Supervisor(log, { initialBackoffMs: 50, maxBackoffMs: 200 });
    const starts: number[] = [];
    sup.add({ name: 'flaky', argv: [process.execPath, '-e', `require('fs').appendFileSync(${JSON.stringify(marks)}, 'x'); process.exit(3)`], onStart: (pid) => starts.push(pid) });
    await eventually(() => existsSync(marks) && readFileSync(marks, 'utf8').length >= 4, 10_000, 'four runs');
    const st = sup.status()[0]!;
    expect(st.restarts).to.be.greaterThanOrEqual(3);
    expect(st.lastExit).to.equal('exited with code 3');
    expect(new Set(starts).size, 'a new process each time').to.be.greaterThanOrEqual(4);
  });

  it('stops children with SIGTERM and escalates to SIGKILL for one that ignores it', async () => {
    sup = new Supervisor(log, { stopTimeoutMs: 500 });
    sup.add({ name: 'polite', argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'] });
    const armed = join(dir, 'armed');
    sup.add({ name: 'stubborn', argv: [process.execPath, '-e', `process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(armed)}, ''); setInterval(() => {}, 1000)`] });
    await eventually(() => sup!.status().every((s) => s.running) && existsSync(armed), 10_000, 'both running, SIGTERM ignored');
    const pids = sup.status().map((s) => s.pid!);
    await sup.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0), `pid ${pid} gone`).to.throw();
    const st = sup.status();
    expect(st.find((s) => s.name === 'polite')!.lastExit).to.equal('killed by SIGTERM');
    expect(st.find((s) => s.name === 'stubborn')!.lastExit).to.equal('killed by SIGKILL');
    expect(st.every((s) => s.restarts === 0), 'no restarts while stopping').to.equal(true);
  });
});

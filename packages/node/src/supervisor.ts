// Runs felix, confd and bgpd as separate child processes, as calico-node runs them under runit:
// a child that exits is restarted after a backoff that doubles up to a ceiling and resets once
// the child has stayed up for a while; stop() sends SIGTERM and escalates to SIGKILL.

import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '@tabby/log';

export interface ChildSpec {
  name: string;
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Called with the PID each time the child (re)starts (e.g. to write a pid file). */
  onStart?: (pid: number) => void;
}

export interface ChildStatus {
  name: string;
  pid: number | undefined;
  running: boolean;
  restarts: number;
  lastExit: string;
  startedAt: string | undefined;
}

export interface SupervisorOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A child that ran this long before exiting restarts with the initial backoff again. */
  stableMs?: number;
  stopTimeoutMs?: number;
}

class Child {
  proc: ChildProcess | undefined;
  restarts = 0;
  lastExit = '';
  startedAt: number | undefined;
  backoff: number;
  timer: NodeJS.Timeout | undefined;
  constructor(readonly spec: ChildSpec, initial: number) {
    this.backoff = initial;
  }
}

export class Supervisor {
  private readonly children: Child[] = [];
  private stopping = false;
  private readonly o: Required<SupervisorOptions>;

  constructor(private readonly log: Logger, opts: SupervisorOptions = {}) {
    this.o = { initialBackoffMs: 1000, maxBackoffMs: 30_000, stableMs: 30_000, stopTimeoutMs: 10_000, ...opts };
  }

  add(spec: ChildSpec): void {
    const c = new Child(spec, this.o.initialBackoffMs);
    this.children.push(c);
    if (!this.stopping) this.launch(c);
  }

  private launch(c: Child): void {
    c.timer = undefined;
    if (this.stopping) return;
    const [cmd, ...args] = c.spec.argv;
    const p = spawn(cmd!, args, { stdio: ['ignore', 'inherit', 'inherit'], env: c.spec.env ?? process.env });
    c.proc = p;
    c.startedAt = Date.now();
    p.once('error', (e) => {
      c.lastExit = `could not start: ${e.message}`;
      this.log.error('child could not start', { child: c.spec.name, error: e.message });
    });
    if (p.pid !== undefined) {
      this.log.info('child started', { child: c.spec.name, pid: p.pid });
      try {
        c.spec.onStart?.(p.pid);
      } catch (e) {
        this.log.warn('child start hook failed', { child: c.spec.name, error: (e as Error).message });
      }
    }
    p.once('close', (code, signal) => {
      if (c.proc !== p) return;
      c.proc = undefined;
      c.lastExit = signal ? `killed by ${signal}` : `exited with code ${code}`;
      if (this.stopping) return;
      const ran = Date.now() - (c.startedAt ?? Date.now());
      if (ran >= this.o.stableMs) c.backoff = this.o.initialBackoffMs;
      this.log.warn('child exited; restarting', { child: c.spec.name, exit: c.lastExit, inMs: c.backoff });
      c.restarts++;
      c.timer = setTimeout(() => this.launch(c), c.backoff);
      c.backoff = Math.min(this.o.maxBackoffMs, c.backoff * 2);
    });
  }

  status(): ChildStatus[] {
    return this.children.map((c) => ({
      name: c.spec.name,
      pid: c.proc?.pid,
      running: !!c.proc && c.proc.exitCode === null,
      restarts: c.restarts,
      lastExit: c.lastExit,
      startedAt: c.startedAt ? new Date(c.startedAt).toISOString() : undefined,
    }));
  }

  /** SIGTERM to every child (in reverse start order), SIGKILL to any still running after the timeout. */
  async stop(): Promise<void> {
    this.stopping = true;
    const waits: Promise<void>[] = [];
    for (const c of [...this.children].reverse()) {
      if (c.timer) clearTimeout(c.timer);
      const p = c.proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) continue;
      waits.push(new Promise<void>((res) => {
        const kill = setTimeout(() => p.kill('SIGKILL'), this.o.stopTimeoutMs);
        p.once('close', () => { clearTimeout(kill); res(); });
      }));
      p.kill('SIGTERM');
    }
    await Promise.all(waits);
  }
}

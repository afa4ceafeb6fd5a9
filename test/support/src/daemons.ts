// Long-running daemons for interop tests, started inside a test's network namespace and
// stopped by PID (never by name).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from './netns.js';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) {
    try { p.kill('SIGKILL'); } catch { /* gone */ }
  }
});

export interface Daemon {
  pid: number;
  /** Everything the process wrote (stdout + stderr), for failure messages. */
  output(): string;
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
  exited(): boolean;
}

export function startInNetns(ns: Netns, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Daemon {
  const p = spawn('ip', ['netns', 'exec', ns.name, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env });
  running.add(p);
  let out = '';
  // The last ~200 KB (trimmed in halves, so keeping it is cheap for chatty daemons).
  const keep = (d: Buffer) => { out += d.toString(); if (out.length > 400_000) out = out.slice(-200_000); };
  p.stdout?.on('data', keep);
  p.stderr?.on('data', keep);
  return {
    pid: p.pid!,
    output: () => out,
    signal: (sig) => { if (p.exitCode === null) p.kill(sig); },
    exited: () => p.exitCode !== null || p.signalCode !== null,
    stop: async () => {
      if (p.exitCode === null && p.signalCode === null) {
        const gone = new Promise<void>((res) => p.once('exit', () => res()));
        p.kill('SIGCONT');
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(t);
      }
      running.delete(p);
    },
  };
}

export interface Bird extends Daemon {
  socket: string;
  /** Runs birdc against this instance. */
  birdc(...args: string[]): string;
  /** Rewrites the config and asks BIRD to reload it. */
  reconfigure(config: string): void;
}

/** BIRD 2 in the foreground inside `ns`, with its control socket and config in `dir`. */
export function startBird(ns: Netns, dir: string, config: string, bin: { bird: string; birdc: string } = { bird: 'bird', birdc: 'birdc' }): Bird {
  const conf = join(dir, 'bird.conf');
  const socket = join(dir, 'bird.ctl');
  writeFileSync(conf, config);
  const d = startInNetns(ns, [bin.bird, '-f', '-c', conf, '-s', socket]);
  const birdc = (...args: string[]) => {
    const r = spawnSync(bin.birdc, ['-s', socket, ...args], { encoding: 'utf8' });
    return r.stdout + r.stderr;
  };
  return {
    ...d,
    socket,
    birdc,
    reconfigure: (c: string) => {
      writeFileSync(conf, c);
      birdc('configure');
    },
  };
}

/** Polls `check` until it returns a truthy value or the time is up. */
export async function eventually<T>(check: () => T | Promise<T>, ms = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Where bootstrap unpacked Debian's BIRD 1.6 (it cannot be installed next to bird2). */
export function bird16Paths(repoRoot: string): { bird: string; birdc: string } {
  return { bird: join(repoRoot, '.tabby-run/bird16/usr/sbin/bird'), birdc: join(repoRoot, '.tabby-run/bird16/usr/sbin/birdc') };
}

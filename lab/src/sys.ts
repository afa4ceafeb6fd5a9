// Small process helpers for the lab: argv arrays only (no shell), errors that carry stderr.

import { spawn, spawnSync } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export class CommandError extends Error {
  override name = 'CommandError';
}

/** Runs a command to completion; throws with its stderr when it fails. */
export function run(argv: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; allowFail?: boolean } = {}): { code: number; stdout: string; stderr: string } {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd!, args, { input: opts.input ?? '', encoding: 'utf8', env: opts.env ?? process.env, maxBuffer: 64 << 20 });
  const out = { code: r.status ?? (r.signal ? 128 : 1), stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? r.error.message : '') };
  if (out.code !== 0 && !opts.allowFail) throw new CommandError(`${argv.join(' ')}: ${out.stderr.trim() || `exit ${out.code}`}`);
  return out;
}

export const inNs = (ns: string, argv: readonly string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];

/** Starts a long-running program in a namespace, detached from us, output to a log file. */
export function startDetached(ns: string, argv: readonly string[], log: string, env: NodeJS.ProcessEnv = process.env): number {
  const fd = openSync(log, 'a');
  try {
    const p = spawn('ip', ['netns', 'exec', ns, ...argv], { detached: true, stdio: ['ignore', fd, fd], env });
    p.unref();
    if (p.pid === undefined) throw new CommandError(`could not start ${argv.join(' ')}`);
    return p.pid; // `ip netns exec` execs the program, so this is the program's PID
  } finally {
    closeSync(fd);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `ms` if still running. */
export async function stopPid(pid: number, ms = 10_000): Promise<void> {
  if (!alive(pid)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const end = Date.now() + ms;
  while (alive(pid) && Date.now() < end) await sleep(100);
  if (alive(pid)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or the time is up (then throws with `what`). */
export async function waitFor<T>(what: string, ms: number, check: () => T | Promise<T>): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new CommandError(`timed out after ${ms / 1000} s waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(500);
  }
}

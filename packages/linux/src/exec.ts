// Running Linux tools: argv arrays only (never a shell), optional stdin for batch modes,
// optional network namespace, bounded time, and errors that carry what a caller needs.

import { spawn } from 'node:child_process';

export interface ExecOptions {
  /** Written to the child's stdin (batch input for `ip -batch -`, `iptables-restore`, ...). */
  input?: string;
  /** Run inside this network namespace (via `ip netns exec`). */
  netns?: string;
  /** Kill the child after this long (default 30 s). */
  timeoutMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export class ExecError extends Error {
  override name = 'ExecError';
  constructor(readonly argv: readonly string[], readonly code: number | null, readonly stderr: string, readonly stdout = '') {
    super(`${argv.join(' ')} failed (${code === null ? 'killed' : `exit ${code}`}): ${stderr.trim() || stdout.trim() || 'no output'}`);
  }
}

/** The seam for tests and for swapping in other runners. */
export type Exec = (cmd: string, args: readonly string[], opts?: ExecOptions) => Promise<ExecResult>;

export function fullArgv(cmd: string, args: readonly string[], netns?: string): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, cmd, ...args] : [cmd, ...args];
}

/** Runs a command and resolves with its output whatever the exit code. */
export const exec: Exec = (cmd, args, opts = {}) => {
  const argv = fullArgv(cmd, args, opts.netns);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new ExecError(argv, null, e.message));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code: code ?? -1 });
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading all input
    child.stdin.end(opts.input ?? '');
  });
};

/** Runs a command and throws ExecError unless it exits 0. */
export async function run(cmd: string, args: readonly string[], opts: ExecOptions = {}, runner: Exec = exec): Promise<string> {
  const r = await runner(cmd, args, opts);
  if (r.code !== 0) throw new ExecError(fullArgv(cmd, args, opts.netns), r.code, r.stderr, r.stdout);
  return r.stdout;
}

// iproute2 helpers: JSON reads and batch writes (`ip -batch -`), no shell involved.

import { exec, ExecError, fullArgv, run, type Exec } from './exec.js';

export interface IpOptions {
  netns?: string;
  exec?: Exec;
}

/** `ip -json <args>` parsed. */
export async function ipJson<T = unknown>(args: readonly string[], opts: IpOptions = {}): Promise<T> {
  const out = await run('ip', ['-json', ...args], opts.netns ? { netns: opts.netns } : {}, opts.exec ?? exec);
  return (out.trim() ? JSON.parse(out) : []) as T;
}

export interface BatchFailure {
  /** 1-based line of the batch that failed. */
  line: number;
  command: readonly string[];
  error: string;
}

/** Batch lines are whitespace-separated; a token with whitespace could change the command. */
function batchLine(tokens: readonly string[]): string {
  for (const t of tokens) {
    if (t === '' || /[\s"'\\#]/.test(t)) throw new Error(`ip batch token ${JSON.stringify(t)} is empty or contains whitespace, quotes, "\\" or "#"`);
  }
  return tokens.join(' ');
}

/**
 * Runs many ip commands in one process (`ip -force -batch -`): every line is attempted and the
 * failures come back by line, so one bad route does not block the rest.
 */
export async function ipBatch(commands: readonly (readonly string[])[], opts: IpOptions = {}): Promise<BatchFailure[]> {
  if (!commands.length) return [];
  const input = commands.map(batchLine).join('\n') + '\n';
  const args = ['-force', '-batch', '-'];
  const r = await (opts.exec ?? exec)('ip', args, { input, ...(opts.netns ? { netns: opts.netns } : {}) });
  if (r.code === 0) return [];
  const failures: BatchFailure[] = [];
  // ip prints the error text, then "Command failed -:<line>".
  const lines = r.stderr.split('\n');
  let pending: string[] = [];
  for (const l of lines) {
    const m = /^Command failed -:(\d+)$/.exec(l.trim());
    if (m) {
      const line = Number(m[1]);
      failures.push({ line, command: commands[line - 1] ?? [], error: pending.join(' ').trim() || 'failed' });
      pending = [];
    } else if (l.trim()) {
      pending.push(l.trim());
    }
  }
  if (!failures.length) throw new ExecError(fullArgv('ip', args, opts.netns), r.code, r.stderr);
  return failures;
}

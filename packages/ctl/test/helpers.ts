// Runs the built ctl as a user would: a subprocess with its own environment.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CTL_BIN = join(HERE, '..', '..', 'bin', 'ctl.js');
export const FIXTURES = join(HERE, '..', 'fixtures');

export interface CtlResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function ctl(args: string[], opts: { env?: Record<string, string>; input?: string; cwd?: string } = {}): CtlResult {
  const t0 = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  // Keep the user's real config file out of the tests.
  delete env['DATASTORE_TYPE'];
  const r = spawnSync(process.execPath, [CTL_BIN, ...args], {
    env: { ...env, ...opts.env },
    input: opts.input ?? '',
    cwd: opts.cwd ?? HERE,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

export function etcdctl(endpoint: string, args: string[]): string {
  const r = spawnSync('etcdctl', ['--endpoints', endpoint, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

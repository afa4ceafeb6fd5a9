// Delegation to the IPAM plugin named in ipam.type, the way CNI plugins do it: find the
// executable in CNI_PATH, run it with our environment (CNI_COMMAND possibly changed, e.g. DEL
// to undo an ADD) and the same network config on stdin, and read its result or error JSON.

import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { CniCode, CniError } from './errors.js';
import { parseResult, type Result } from './result.js';

/** The first executable file named `type` in the CNI_PATH directories. */
export function findPlugin(type: string, path: readonly string[]): string {
  for (const dir of path) {
    const file = join(dir, type);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      continue;
    }
  }
  throw new CniError(CniCode.invalidNetworkConfig,
    `network config: ipam.type ${JSON.stringify(type)}: no executable plugin of that name in CNI_PATH (${path.join(':') || 'empty'})`);
}

export interface DelegateOptions {
  /** The plugin's environment (ours, normally); CNI_COMMAND is set from `command`. */
  env: NodeJS.ProcessEnv;
  /** Killed after this long (default 120 s). */
  timeoutMs?: number;
}

interface RunOutput { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function runPlugin(file: string, stdin: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CniError(CniCode.ipamFailure, `cannot run IPAM plugin ${file}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

/** The plugin's error JSON, kept as it is (code, msg, details) so the runtime sees IPAM's own answer. */
function pluginError(type: string, command: string, r: RunOutput): CniError {
  try {
    const e = JSON.parse(r.stdout) as { code?: unknown; msg?: unknown; details?: unknown };
    if (typeof e.code === 'number' && typeof e.msg === 'string') {
      return new CniError(e.code, e.msg, typeof e.details === 'string' ? e.details : '');
    }
  } catch {
    // not JSON: fall through
  }
  const how = r.signal ? `was killed (${r.signal})` : `exited ${r.code}`;
  const said = (r.stdout.trim() || r.stderr.trim()).slice(-2000);
  return new CniError(CniCode.ipamFailure, `IPAM plugin ${type} ${command} ${how}${said ? `: ${said}` : ' without output'}`);
}

/** The IPAM plugin succeeded but its output is unusable: the caller must release what it may hold. */
export class IpamResultError extends CniError {
  override name = 'IpamResultError';
}

/** Runs IPAM ADD and returns its result (which must hold at least one address). */
export async function delegateAdd(type: string, path: readonly string[], stdin: string, opts: DelegateOptions): Promise<Result> {
  const file = findPlugin(type, path);
  const r = await runPlugin(file, stdin, { ...opts.env, CNI_COMMAND: 'ADD' }, opts.timeoutMs ?? 120_000);
  if (r.code !== 0) throw pluginError(type, 'ADD', r);
  let doc: unknown;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new IpamResultError(CniCode.ipamFailure, `IPAM plugin ${type} ADD printed no JSON result`, r.stdout.slice(0, 2000));
  }
  let result: Result;
  try {
    result = parseResult(doc, `IPAM plugin ${type} result`, CniCode.ipamFailure);
  } catch (e) {
    throw new IpamResultError(CniCode.ipamFailure, (e as Error).message);
  }
  if (!result.ips?.length) throw new IpamResultError(CniCode.ipamFailure, `IPAM plugin ${type} returned no addresses`);
  return result;
}

/** Runs IPAM DEL or CHECK; they print nothing on success. */
export async function delegateOther(command: 'DEL' | 'CHECK', type: string, path: readonly string[], stdin: string, opts: DelegateOptions): Promise<void> {
  const file = findPlugin(type, path);
  const r = await runPlugin(file, stdin, { ...opts.env, CNI_COMMAND: command }, opts.timeoutMs ?? 120_000);
  if (r.code !== 0) throw pluginError(type, command, r);
}

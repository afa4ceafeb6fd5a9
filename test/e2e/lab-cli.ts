// The lab CLI (lab/dist/main.js) as the end-to-end tests drive it: a subprocess per command,
// output kept for assertions.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const LAB = fileURLToPath(new URL('../../../lab/dist/main.js', import.meta.url));

export interface LabResult { code: number; out: string }

/** The environment of a lab of its own: its state directory and namespace prefix. */
export function labEnv(dir: string, prefix: string): NodeJS.ProcessEnv {
  return { ...process.env, TABBY_LAB_DIR: dir, TABBY_LAB_PREFIX: prefix };
}

/** Runs the lab CLI with `input` on stdin; long commands stream nothing but keep their output. */
export function labRun(env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<LabResult> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [LAB, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d; });
    p.stderr.on('data', (d: Buffer) => { out += d; });
    p.on('close', (code) => res({ code: code ?? 1, out }));
    p.stdin.end(input ?? '');
  });
}

export const lab = (env: NodeJS.ProcessEnv, ...args: string[]): Promise<LabResult> => labRun(env, args);

export function labSync(env: NodeJS.ProcessEnv, ...args: string[]): LabResult {
  const r = spawnSync(process.execPath, [LAB, ...args], { env, encoding: 'utf8' });
  return { code: r.status ?? 1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

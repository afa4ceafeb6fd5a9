// Writing the rendered config: atomically (temp file in the same directory, then rename) and
// only when the content differs from what is on disk, followed by the reload action.

import { spawn } from 'node:child_process';
import { readFile, rename, unlink, open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes `content` to `path` unless it already holds exactly that. Returns whether it wrote. */
export async function writeIfChanged(path: string, content: string): Promise<boolean> {
  let current: string | undefined;
  try {
    current = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (current === content) return false;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(content, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return true;
}

/** What to do after the file changed. */
export type ReloadAction =
  | { kind: 'none' }
  /** SIGHUP to this PID. */
  | { kind: 'pid'; pid: number }
  /** SIGHUP to the PID read from this file at reload time (the daemon may have restarted). */
  | { kind: 'pidfile'; path: string }
  /** Run this argv (no shell); success is exit code 0. */
  | { kind: 'command'; argv: readonly string[] };

export class ReloadError extends Error {
  override name = 'ReloadError';
}

export async function reload(action: ReloadAction, signal: NodeJS.Signals = 'SIGHUP'): Promise<void> {
  switch (action.kind) {
    case 'none':
      return;
    case 'pid':
      return hup(action.pid, signal, `PID ${action.pid}`);
    case 'pidfile': {
      let text: string;
      try {
        text = await readFile(action.path, 'utf8');
      } catch (e) {
        throw new ReloadError(`cannot read pid file ${action.path}: ${(e as Error).message}`);
      }
      const pid = Number(text.trim());
      if (!Number.isInteger(pid) || pid <= 1) throw new ReloadError(`pid file ${action.path} does not hold a PID: ${JSON.stringify(text.trim())}`);
      return hup(pid, signal, `PID ${pid} from ${action.path}`);
    }
    case 'command':
      return run(action.argv);
  }
}

function hup(pid: number, signal: NodeJS.Signals, what: string): void {
  try {
    process.kill(pid, signal);
  } catch (e) {
    throw new ReloadError(`cannot signal ${what}: ${(e as Error).message}`);
  }
}

function run(argv: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (!cmd) return reject(new ReloadError('empty reload command'));
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', (e) => reject(new ReloadError(`reload command ${cmd}: ${e.message}`)));
    child.on('close', (code, sig) => {
      if (code === 0) resolve();
      else reject(new ReloadError(`reload command ${argv.join(' ')} failed (${sig ?? `exit ${code}`}): ${err.trim()}`));
    });
  });
}

// The host-wide IPAM lock: IPAM calls of concurrent plugin runs on one node take turns, as
// Calico's IPAM plugin does with its lock file. Compare-and-swap in the datastore already keeps
// addresses unique; the lock keeps two pods that start at the same moment from each claiming a
// new block when one block would do.
//
// Node has no file locking, so the lock is flock(2) taken by util-linux's flock(1) on a file
// descriptor this process shares with it: the child locks the shared open file description and
// exits, and the lock stays with this process until it closes the descriptor or dies, when the
// kernel drops it. A plugin killed mid-call never leaves the lock behind.

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { CniCode, CniError } from './errors.js';

export interface IpamLock {
  /** Gives the lock up (idempotent). */
  release(): void;
}

export interface LockLog {
  warn(msg: string, meta?: Record<string, unknown>): void;
  debug(msg: string, meta?: Record<string, unknown>): void;
}

const NO_LOCK: IpamLock = { release: () => undefined };

/**
 * Takes the lock at `path`, waiting up to `timeoutMs` for another holder. An empty path turns
 * locking off. When the lock file cannot be created or flock(1) is missing the call goes on
 * without the lock (a warning says why): the datastore's compare-and-swap still keeps the
 * addresses right. A lock still held by another process after `timeoutMs` is a try-again error.
 */
export async function acquireIpamLock(path: string, timeoutMs: number, log: LockLog): Promise<IpamLock> {
  if (!path) return NO_LOCK;
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(path, 'a', 0o644);
  } catch (e) {
    log.warn('cannot open the IPAM lock file; going on without the lock', { path, error: (e as Error).message });
    return NO_LOCK;
  }
  const started = Date.now();
  let outcome: { code: number | null; error?: NodeJS.ErrnoException; stderr: string };
  try {
    outcome = await new Promise((resolve) => {
      const child = spawn('flock', ['--exclusive', '--wait', String(Math.max(timeoutMs, 0) / 1000), '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: null, error, stderr }));
      child.on('close', (code) => resolve({ code, stderr }));
    });
  } catch (e) {
    outcome = { code: null, error: e as NodeJS.ErrnoException, stderr: '' };
  }
  if (outcome.code === 0) {
    log.debug('IPAM lock taken', { path, waitedMs: Date.now() - started });
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        closeSync(fd);
      },
    };
  }
  closeSync(fd);
  if (outcome.error) {
    log.warn('cannot run flock(1) for the IPAM lock; going on without the lock', { path, error: outcome.error.message });
    return NO_LOCK;
  }
  // flock -w exits 1 when the time ran out.
  if (outcome.code === 1 && !outcome.stderr.trim()) {
    throw new CniError(CniCode.tryAgainLater, `IPAM lock ${path}: still held by another plugin run after ${timeoutMs / 1000} s`);
  }
  log.warn('flock(1) failed on the IPAM lock file; going on without the lock', { path, code: outcome.code, stderr: outcome.stderr.trim() });
  return NO_LOCK;
}

/** Runs `fn` holding the IPAM lock. */
export async function withIpamLock<T>(path: string, timeoutMs: number, log: LockLog, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireIpamLock(path, timeoutMs, log);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

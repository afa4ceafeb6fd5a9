// What every CNI plugin does around its real work: read the config from stdin and the CNI_*
// environment, answer VERSION, refuse CHECK for configs older than 0.4.0, call ADD/DEL/CHECK,
// print the result (in the config's version) or the error JSON on stdout, and pick the exit
// code. Logs go to stderr and log_file_path, never to stdout.

import { createLogger, type Logger } from '@tabby/log';
import { CniCode, CniError, errorJson } from './errors.js';
import { parseCniEnv, type CniEnv } from './env.js';
import { parseNetConf, type NetConf } from './config.js';
import { formatResult, type Result } from './result.js';
import { isSupportedVersion, LATEST_VERSION, versionHasCheck, versionInfo } from './version.js';

export interface CallContext {
  env: CniEnv;
  conf: NetConf;
  /** The config text exactly as received (handed on to the IPAM plugin). */
  stdin: string;
  /** The whole process environment (for delegation). */
  processEnv: NodeJS.ProcessEnv;
  log: Logger;
}

export interface PluginHandlers {
  add(ctx: CallContext): Promise<Result>;
  del(ctx: CallContext): Promise<void>;
  check(ctx: CallContext): Promise<void>;
}

export interface PluginIo {
  stdin: string;
  env: NodeJS.ProcessEnv;
  /** Receives exactly one JSON document (or nothing, for a successful DEL/CHECK). */
  write(text: string): void;
}

/** The cniVersion to put on an error: the config's if it is one we speak, else the latest. */
function errorVersion(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return isSupportedVersion(v) ? v : LATEST_VERSION;
  } catch {
    return LATEST_VERSION;
  }
}

function asCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const c = new CniError(CniCode.internal, err.message);
  if (err.stack) c.stack = err.stack;
  return c;
}

async function closeLogger(log: Logger): Promise<void> {
  // Let the file transport drain before the process ends.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    log.on('finish', () => { clearTimeout(timer); resolve(); });
    log.end();
  });
}

/** Runs one plugin invocation; returns the exit code. */
export async function runPlugin(component: string, handlers: PluginHandlers, io: PluginIo): Promise<number> {
  let log: Logger | undefined;
  try {
    const env = parseCniEnv(io.env);
    if (env.command === 'VERSION') {
      io.write(JSON.stringify(versionInfo()));
      return 0;
    }
    const conf = parseNetConf(io.stdin);
    log = createLogger(component, { level: conf.logLevel, ...(conf.logFilePath ? { file: conf.logFilePath } : {}) })
      .child({ containerID: env.containerID, command: env.command });
    log.debug('called', { netns: env.netns, ifName: env.ifName, args: Object.fromEntries(env.args) });
    const ctx: CallContext = { env, conf, stdin: io.stdin, processEnv: io.env, log };
    switch (env.command) {
      case 'ADD': {
        const result = await handlers.add(ctx);
        io.write(JSON.stringify(formatResult(result, conf.cniVersion)));
        break;
      }
      case 'DEL':
        await handlers.del(ctx);
        break;
      case 'CHECK':
        if (!versionHasCheck(conf.cniVersion)) {
          throw new CniError(CniCode.incompatibleVersion, `config version ${conf.cniVersion} does not allow CHECK (it needs 0.4.0 or later)`);
        }
        await handlers.check(ctx);
        break;
    }
    log.info(`${env.command} done`);
    return 0;
  } catch (e) {
    const err = asCniError(e);
    log?.error(err.message, { code: err.code, details: err.details || undefined, ...(err.code === CniCode.internal ? { stack: err.stack } : {}) });
    io.write(JSON.stringify(errorJson(errorVersion(io.stdin), err)));
    return 1;
  } finally {
    if (log) await closeLogger(log);
  }
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (d: Buffer) => chunks.push(d));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

/** Entry point for the executables: real stdin/stdout/env, then exit. */
export async function main(component: string, handlers: PluginHandlers): Promise<void> {
  let stdin = '';
  try {
    stdin = await readStdin();
  } catch (e) {
    process.stdout.write(JSON.stringify(errorJson(LATEST_VERSION, new CniError(CniCode.ioFailure, `reading the network config from stdin failed: ${(e as Error).message}`))) + '\n');
    process.exitCode = 1;
    return;
  }
  const code = await runPlugin(component, handlers, { stdin, env: process.env, write: (t) => process.stdout.write(t + '\n') });
  process.exitCode = code;
  // Nothing should keep us alive after the answer; if a client library still holds a handle,
  // end anyway rather than make the runtime wait for its timeout.
  setTimeout(() => process.exit(code), 5000).unref();
}

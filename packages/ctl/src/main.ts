// Entry point: run the command, decide the exit code in one place, print errors tersely.

import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { Session, type Output } from './session.js';
import { CtlError } from './errors.js';

const processOutput: Output = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

/** Runs ctl with a full argv (node, script, ...args); resolves to the exit code. */
export async function run(argv: readonly string[], io: Output = processOutput): Promise<number> {
  const session = new Session({}, io);
  const program = buildProgram(session);
  program.hook('preAction', (cmd) => {
    Object.assign(session.globals, cmd.optsWithGlobals());
    // The default path is only a hint: a missing default file means "use the environment".
    if (program.getOptionValueSource('config') === 'default') delete session.globals.config;
  });
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has already printed its message (usage errors, --help, --version).
      return e.exitCode === 0 ? 0 : 1;
    }
    const debug = (session.globals.logLevel ?? '').toLowerCase() === 'debug';
    const msg = e instanceof CtlError || !(e instanceof Error) ? String((e as Error).message ?? e) : e.message;
    io.err(msg.endsWith('\n') ? msg : msg + '\n');
    if (debug && e instanceof Error && !(e instanceof CtlError)) io.err(`${e.stack ?? ''}\n`);
    return 1;
  } finally {
    await session.close().catch(() => undefined);
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  const code = await run(argv);
  // stdout/stderr are synchronous for files and pipes on Linux, so nothing is lost by exiting
  // here; exiting explicitly keeps a lingering client handle from holding the process open.
  process.exit(code);
}

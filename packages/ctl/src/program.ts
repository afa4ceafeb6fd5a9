// The command tree. Each verb's work lives in commands/<verb>.ts; this file only wires flags.

import { Command, Option } from 'commander';
import { runConfigCommand, type ConfigAction } from './commands/write.js';
import { OUTPUT_FORMATS, runGet } from './commands/get.js';
import { runPatch } from './commands/patch.js';
import { runLabel } from './commands/label.js';
import { clientVersion, runVersion } from './commands/version.js';
import { runNodeStatus } from './commands/node/status.js';
import { runNodeRefresh } from './commands/node/refresh.js';
import { runIpamShow } from './commands/ipam/show.js';
import { runIpamRelease } from './commands/ipam/release.js';
import { runIpamCheck } from './commands/ipam/check.js';
import type { Session } from './session.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function buildProgram(session: Session): Command {
  const program = new Command('ctl')
    .description('Manage Tabby (Calico v3) resources, like calicoctl')
    .version(clientVersion(), '--version', 'print the client version')
    .option('-c, --config <file>', 'client configuration file (CalicoAPIConfig YAML)', '/etc/tabby/ctl.cfg')
    .option('-l, --log-level <level>', 'log level (panic, fatal, error, warn, info, debug)', 'panic')
    .option('--allow-version-mismatch', 'accepted for calicoctl compatibility; versions are not checked')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => session.io.out(s), writeErr: (s) => session.io.err(s) })
    .exitOverride();

  const fileOpts = (c: Command) => c
    .option('-f, --filename <file>', 'file, directory, or - for stdin (repeatable)', collect)
    .option('-R, --recursive', 'process directories given with -f recursively')
    .option('-n, --namespace <ns>', 'namespace for namespaced resources that carry none', undefined);

  const config = (action: ConfigAction, description: string, extra?: (c: Command) => Command) => {
    let c = fileOpts(program.command(action).description(description));
    if (extra) c = extra(c);
    if (action === 'delete') c = c.argument('[kind]', 'resource kind').argument('[names...]', 'resource names');
    c.action(async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      await runConfigCommand(action, session, cmd.opts(), action === 'delete' ? [args[0] as string, ...(args[1] as string[])].filter(Boolean) : []);
    });
  };
  config('create', 'create resources from a file', (c) => c.option('--skip-exists', 'do not fail for resources that already exist'));
  config('apply', 'create or replace resources from a file');
  config('replace', 'replace existing resources from a file');
  config('delete', 'delete resources given in a file or as KIND NAME...', (c) => c.option('-s, --skip-not-exists', 'do not fail for resources that do not exist'));

  fileOpts(program.command('get'))
    .description('display resources')
    .argument('[kind]', 'resource kind (e.g. ippool, wep, bgppeer)')
    .argument('[names...]', 'resource names (all when omitted)')
    .addOption(new Option('-o, --output <format>', `output format: ${OUTPUT_FORMATS.join(', ')}, custom-columns=A,B`).default('ps'))
    .option('-A, --all-namespaces', 'list namespaced resources across all namespaces')
    .addOption(new Option('-a', 'alias of --all-namespaces').hideHelp().implies({ allNamespaces: true }))
    .option('--export', 'strip cluster-specific metadata (resourceVersion, uid, creationTimestamp)')
    .action(async (kind: string | undefined, names: string[], opts) => {
      await runGet(session, opts, kind, names);
    });

  program.command('patch')
    .description('patch a resource')
    .argument('<kind>').argument('<name>')
    .requiredOption('-p, --patch <patch>', 'the patch (JSON)')
    .addOption(new Option('-t, --type <type>', 'patch type').choices(['strategic', 'merge', 'json']).default('strategic'))
    .option('-n, --namespace <ns>', 'namespace of a namespaced resource')
    .action(async (kind: string, name: string, opts) => {
      await runPatch(session, kind, name, opts);
    });

  program.command('label')
    .description('set or remove a label on a resource')
    .argument('<kind>').argument('<name>').argument('<label>', 'key=value, or key with --remove')
    .option('--overwrite', 'replace an existing value')
    .option('--remove', 'remove the label')
    .option('-n, --namespace <ns>', 'namespace of a namespaced resource')
    .action(async (kind: string, name: string, label: string, opts) => {
      await runLabel(session, kind, name, label, opts);
    });

  const node = program.command('node').description('commands about the local node');
  node.command('status')
    .description("show this node's BGP sessions (from bgpd's control socket)")
    .option('--socket <path>', "bgpd's control socket (default: $TABBY_STATE_DIR/bgpd.ctl, as tabby-node places it)", `${process.env['TABBY_STATE_DIR'] || '/var/run/tabby'}/bgpd.ctl`)
    .action(async (opts: { socket?: string }) => {
      await runNodeStatus(session, opts);
    });
  node.command('refresh')
    .description('BGP route refresh: in = ask the peers to resend their routes, out = resend ours (all peers, or one)')
    .argument('<direction>', 'in or out').argument('[peer]', 'peer address (default: every established peer)')
    .option('--socket <path>', "bgpd's control socket (default: $TABBY_STATE_DIR/bgpd.ctl, as tabby-node places it)", `${process.env['TABBY_STATE_DIR'] || '/var/run/tabby'}/bgpd.ctl`)
    .action(async (direction: string, peer: string | undefined, opts: { socket?: string }) => {
      await runNodeRefresh(session, direction, peer, opts);
    });

  const ipam = program.command('ipam').description('IP address management: usage, release, consistency check');
  ipam.command('show')
    .description('show IP usage per pool (and block), one address, borrowed addresses, or the IPAM configuration')
    .option('--ip <ip>', 'report whether this address is in use, and by what')
    .option('--show-blocks', 'show every block as well as the pools')
    .option('--show-borrowed', 'show addresses borrowed from blocks affine to other nodes')
    .option('--show-configuration', 'show the IPAM configuration')
    .action(async (opts: { ip?: string; showBlocks?: boolean; showBorrowed?: boolean; showConfiguration?: boolean }) => {
      await runIpamShow(session, opts);
    });
  ipam.command('release')
    .description('release an address in IPAM (it stays on any endpoint still using it)')
    .option('--ip <ip>', 'the address to release')
    .action(async (opts: { ip?: string }) => {
      await runIpamRelease(session, opts);
    });
  ipam.command('check')
    .description('check IPAM against workload endpoints and nodes; exit code 1 when problems are found')
    .option('-o, --output <file>', 'also write the report as JSON to this file')
    .option('--show-all-ips', 'list every allocation')
    .option('--show-problem-ips', 'list problem addresses (always done; accepted for calicoctl compatibility)')
    .action(async (opts: { output?: string; showAllIps?: boolean }) => {
      await runIpamCheck(session, opts);
    });

  program.command('version')
    .description('print client and cluster versions')
    .action(async () => {
      await runVersion(session);
    });

  return program;
}

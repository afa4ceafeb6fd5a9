// `confd [--once] [--config-out PATH] [--target bgpd|bird] [--reload-pid-file F | --reload-pid N | --reload-cmd "argv"]`
// Environment: NODENAME (else the host name), DATASTORE_TYPE, ETCD_ENDPOINTS, ETCD_*_FILE, CALICO_ROUTER_ID.

import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { configFromEnv, createDatastore } from '@tabby/datastore';
import { createLogger } from '@tabby/log';
import { Confd, renderOnce, type ConfdOptions, type Target } from './daemon.js';
import type { ReloadAction } from './writer.js';

const USAGE = `usage: confd [--once] [--config-out PATH] [--target bgpd|bird]
             [--reload-pid-file FILE | --reload-pid PID | --reload-cmd "CMD ARG..."] [--log-level LEVEL]
`;

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv.slice(2),
      options: {
        once: { type: 'boolean' },
        'config-out': { type: 'string' },
        target: { type: 'string' },
        'reload-pid-file': { type: 'string' },
        'reload-pid': { type: 'string' },
        'reload-cmd': { type: 'string' },
        'log-level': { type: 'string' },
        'debounce-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`confd: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const target = (values.target ?? 'bgpd') as Target;
  if (target !== 'bgpd' && target !== 'bird') {
    process.stderr.write(`confd: --target must be bgpd or bird, not ${JSON.stringify(values.target)}\n`);
    return 2;
  }
  const reloads = [values['reload-pid-file'], values['reload-pid'], values['reload-cmd']].filter((v) => v !== undefined);
  if (reloads.length > 1) {
    process.stderr.write('confd: give at most one of --reload-pid-file, --reload-pid, --reload-cmd\n');
    return 2;
  }
  let reload: ReloadAction = { kind: 'none' };
  if (values['reload-pid-file']) reload = { kind: 'pidfile', path: values['reload-pid-file'] };
  else if (values['reload-pid']) {
    const pid = Number(values['reload-pid']);
    if (!Number.isInteger(pid) || pid <= 1) {
      process.stderr.write(`confd: --reload-pid must be a PID, not ${JSON.stringify(values['reload-pid'])}\n`);
      return 2;
    }
    reload = { kind: 'pid', pid };
  } else if (values['reload-cmd']) reload = { kind: 'command', argv: values['reload-cmd'].split(/\s+/).filter(Boolean) };

  const log = createLogger('confd', values['log-level'] ? { level: values['log-level'] } : {});
  const nodeName = process.env['NODENAME'] || hostname();
  let datastore;
  try {
    datastore = await createDatastore(configFromEnv(process.env));
  } catch (e) {
    process.stderr.write(`confd: ${(e as Error).message}\n`);
    return 1;
  }
  const opts: ConfdOptions = {
    nodeName, datastore, target, reload, log,
    out: values['config-out'] ?? '/etc/tabby/bgpd.yaml',
    ...(process.env['CALICO_ROUTER_ID'] ? { routerId: process.env['CALICO_ROUTER_ID'] } : {}),
    ...(values['debounce-ms'] ? { debounceMs: Number(values['debounce-ms']) } : {}),
  };

  if (values.once) {
    try {
      const r = await renderOnce(opts);
      log.info(r.written ? 'configuration written' : 'configuration unchanged', { file: opts.out });
      return 0;
    } catch (e) {
      process.stderr.write(`confd: ${(e as Error).message}\n`);
      return 1;
    } finally {
      await datastore.close();
    }
  }

  const confd = new Confd(opts);
  confd.start();
  log.info('confd started', { node: nodeName, target, out: opts.out });
  await new Promise<void>((res) => {
    process.once('SIGTERM', res);
    process.once('SIGINT', res);
  });
  log.info('confd stopping');
  await confd.close();
  await datastore.close();
  return 0;
}

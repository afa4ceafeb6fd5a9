// `felix` entry point: config from the environment, datastore from DATASTORE_TYPE/ETCD_*,
// runs in the network namespace it was started in. SIGTERM/SIGINT stop it cleanly.

import { configFromEnv, createDatastore } from '@tabby/datastore';
import { createLogger } from '@tabby/log';
import { FelixConfigError } from './config.js';
import { FelixDaemon } from './felix.js';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const logger = createLogger('felix', { level: env['FELIX_LOGSEVERITYSCREEN'] ?? 'info' });
  let daemon: FelixDaemon;
  try {
    const ds = await createDatastore(configFromEnv(env));
    daemon = new FelixDaemon({ datastore: ds, env, logger });
    const stop = () => {
      logger.info('stopping');
      void daemon.stop().then(() => ds.close()).finally(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    await daemon.start();
    logger.info('in sync with the datastore; watching');
  } catch (e) {
    logger.error(e instanceof FelixConfigError ? `bad configuration: ${e.message}` : `felix failed: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
  }
}

// `tabby-kube-controllers` entry point (etcd datastore only). Environment, as Calico's
// kube-controllers reads it: ETCD_ENDPOINTS and ETCD_*_FILE for etcd; KUBECONFIG (else the
// in-cluster service account) for the API; ENABLED_CONTROLLERS, a comma-separated list (default
// policy,namespace,serviceaccount,workloadendpoint; `node` is accepted and not run, see the
// README); LOG_LEVEL. SIGTERM/SIGINT stop it cleanly.

import { ConfigError, KubeClient, configFromEnv, createDatastore, kubeOptionsOf, loadKubeConfig } from '@tabby/datastore';
import { createLogger } from '@tabby/log';
import { CONTROLLERS, createControllers, type AnyController, type ControllerName } from './controllers.js';

const DEFAULT_ENABLED = 'policy,namespace,serviceaccount,workloadendpoint';

/** ENABLED_CONTROLLERS as a list, or a ConfigError naming the value that is wrong. */
export function enabledControllers(value: string | undefined): { run: ControllerName[]; skipped: string[] } {
  const names = (value ?? DEFAULT_ENABLED).split(',').map((s) => s.trim()).filter(Boolean);
  const run: ControllerName[] = [];
  const skipped: string[] = [];
  for (const n of names) {
    if ((CONTROLLERS as readonly string[]).includes(n)) { if (!run.includes(n as ControllerName)) run.push(n as ControllerName); }
    else if (n === 'node') skipped.push(n);
    else throw new ConfigError(`ENABLED_CONTROLLERS: unknown controller "${n}" (known: ${[...CONTROLLERS, 'node'].join(', ')})`);
  }
  if (!run.length) throw new ConfigError(`ENABLED_CONTROLLERS "${value}": names no controller this program runs (${CONTROLLERS.join(', ')})`);
  return { run, skipped };
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const log = createLogger('kube-controllers', { level: env['LOG_LEVEL'] ?? 'info' });
  const controllers: AnyController[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    stopping = true;
    await Promise.all(controllers.map((c) => c.stop()));
    process.exit(code);
  };
  process.once('SIGTERM', () => { log.info('stopping'); void stop(0); });
  process.once('SIGINT', () => { log.info('stopping'); void stop(0); });
  try {
    const cfg = configFromEnv(env);
    if (cfg.datastoreType !== 'etcdv3') {
      throw new ConfigError('DATASTORE_TYPE=kubernetes: the Kubernetes datastore reads policies, profiles and pod labels from the API itself; these controllers are for etcd');
    }
    const { run, skipped } = enabledControllers(env['ENABLED_CONTROLLERS']);
    if (skipped.length) log.warn('not implemented, not run', { controllers: skipped, why: 'node cleanup (removing a deleted Kubernetes node\'s Calico Node and IPAM) is not implemented yet' });
    const ds = await createDatastore(cfg);
    const kube = new KubeClient(await loadKubeConfig(kubeOptionsOf(cfg), env));
    controllers.push(...createControllers(run, { kube, ds, log }));
    for (const c of controllers) {
      // The API or etcd may not answer yet: keep trying, as a Deployment's pod should.
      for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
        if (stopping) return;
        try { await c.start(); break; } catch (e) {
          log.warn(`${c.name}: cannot start yet; retrying`, { error: (e as Error).message, retryInMs: delay });
          await c.reset().catch(() => undefined);
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    }
    log.info('running', { controllers: run, kubernetes: kube.server });
    await Promise.all(controllers.map((c) => c.synced));
    log.info('in sync', { controllers: run });
  } catch (e) {
    log.error(e instanceof ConfigError ? `bad configuration: ${e.message}` : `kube-controllers failed: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
  }
}

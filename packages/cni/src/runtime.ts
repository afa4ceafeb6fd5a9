// The node-facing pieces both executables share: the node name and the datastore.

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isDns1123Subdomain } from '@tabby/api';
import { EtcdDatastore, KubeDatastore, type Datastore, type EtcdOptions } from '@tabby/datastore';
import { resolveNodename, type NetConf } from './config.js';
import { CniCode, CniError } from './errors.js';

/** The node name, which must be usable in resource names (a DNS-1123 subdomain). */
export function nodenameOf(conf: NetConf): string {
  const name = resolveNodename(conf, {
    readFile: (p) => {
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
    hostname,
  });
  if (!isDns1123Subdomain(name)) {
    throw new CniError(CniCode.invalidNetworkConfig, `network config: nodename ${JSON.stringify(name)}: must be a DNS-1123 subdomain (lower case alphanumerics, "-" and ".")`);
  }
  return name;
}

/** The datastore the config names: etcd, or the Kubernetes API (clients connect on first use). */
export function openDatastore(conf: NetConf): Datastore {
  if (conf.datastoreType === 'kubernetes') {
    const k = conf.kubernetes ?? {};
    try {
      // The plugin's environment is the runtime's, not the node's: only the config counts.
      return new KubeDatastore({ ...(k.kubeconfig ? { kubeconfig: k.kubeconfig } : {}), ...(k.apiRoot ? { apiEndpoint: k.apiRoot } : {}) }, {});
    } catch (e) {
      throw new CniError(CniCode.invalidNetworkConfig, `network config: kubernetes.kubeconfig: ${(e as Error).message}`);
    }
  }
  const o: EtcdOptions = { endpoints: conf.etcd.endpoints };
  if (conf.etcd.caCertFile) o.caFile = conf.etcd.caCertFile;
  if (conf.etcd.certFile) o.certFile = conf.etcd.certFile;
  if (conf.etcd.keyFile) o.keyFile = conf.etcd.keyFile;
  try {
    return new EtcdDatastore(o);
  } catch (e) {
    // Unreadable certificate or key files: a configuration problem, not a transient one.
    throw new CniError(CniCode.invalidNetworkConfig, `network config: etcd_ca_cert_file/etcd_cert_file/etcd_key_file: ${(e as Error).message}`);
  }
}

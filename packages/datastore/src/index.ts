export * from './errors.js';
export * from './datastore.js';
export * from './config.js';
export * from './etcd/keys.js';
export { describeFailure, neverSent, type Failure } from './etcd/failure.js';
export { EtcdDatastore, type EtcdOptions } from './etcd/etcd-datastore.js';
export { KubeDatastore } from './kubernetes/kube-datastore.js';
export { KubeApiError, loadKubeConfig, type KubeOptions } from './kubernetes/client.js';
export * as kubeConvert from './kubernetes/exports.js';

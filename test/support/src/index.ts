export * from './etcd.js';
export * from './proxy.js';
export * from './netns.js';
export * from './daemons.js';
export * from './kube-api-server.js';

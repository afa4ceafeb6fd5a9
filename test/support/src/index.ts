export * from './etcd.js';
export * from './netns.js';
export * from './daemons.js';

export * from './etcd.js';
export * from './netns.js';

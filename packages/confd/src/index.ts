export * from './plan.js';
export * from './bgpd.js';
export * from './bird.js';
export * from './writer.js';
export * from './daemon.js';

export * from './env.js';
export * from './autodetect.js';
export * from './startup.js';
export * from './supervisor.js';
export * from './probes.js';
export { main, pathsOf, type Paths } from './main.js';
export * from './metrics.js';

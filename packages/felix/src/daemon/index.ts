export * from './config.js';
export * from './felix.js';
export * from './metrics.js';
export { main } from './main.js';

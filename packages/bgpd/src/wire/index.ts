export * from './errors.js';
export { Reader } from './reader.js';
export { Writer } from './writer.js';
export * from './framer.js';
export * from './capabilities.js';
export * from './open.js';
export * from './simple.js';

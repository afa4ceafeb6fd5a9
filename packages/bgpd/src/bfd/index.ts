export * from './packet.js';
export * from './session.js';
export * from './manager.js';
export * from './config.js';

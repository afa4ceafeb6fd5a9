export * from './config/schema.js';
export * from './config/load.js';
export * from './session/fsm.js';
export * from './rib/decision.js';
export * from './wire/index.js';

export * from './config/schema.js';
export * from './config/load.js';
export * from './session/fsm.js';
export * from './rib/decision.js';
export * from './wire/index.js';
export * from './rib/attr-intern.js';
export * from './rib/loc-rib.js';

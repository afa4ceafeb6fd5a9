export * from './errors.js';
export * from './datastore.js';

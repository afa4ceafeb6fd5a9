export * from './model.js';
export * from './names.js';
export * from './render.js';
export * from './selectors.js';
export * from './rules.js';
export * from './chains.js';
export * from './calculator.js';
export * from './ipset-index.js';

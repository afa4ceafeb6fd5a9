export * from './calc.js';
export * from './nat.js';

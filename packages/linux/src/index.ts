export * from './exec.js';
export * from './ip.js';
export * from './routes.js';
export * from './route-table.js';
export { canonicalCidr, parseCidrOrIpLoose } from './cidr.js';

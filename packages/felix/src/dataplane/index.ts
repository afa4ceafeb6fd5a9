export * from './iptables-backend.js';
export * from './iptables-save.js';
export * from './iptables-table.js';
export * from './ipsets.js';
export * from './policy-dataplane.js';
export * from './route-dataplane.js';

// felix: the per-node dataplane agent. This package currently exports the policy dataplane:
// the pure policy calculation (chains and IP sets) and the iptables/ipset appliers.
export * from './policy/index.js';
export * from './dataplane/index.js';
export * from './routes/index.js';
export * from './daemon/index.js';

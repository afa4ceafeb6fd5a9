// The pure conversions of the Kubernetes backend, for tests and for tools that show what Calico
// would derive from Kubernetes objects.
export * from './convert.js';
export * from './pods.js';
export * from './network-policy.js';
export * from './paths.js';

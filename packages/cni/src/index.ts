// CNI plugin `tabby` and IPAM plugin `tabby-ipam` (CNI spec 1.0.0; also 0.3.0, 0.3.1, 0.4.0).
export * from './errors.js';
export * from './version.js';
export * from './env.js';
export * from './config.js';
export * from './result.js';
export * from './dataplane.js';
export * from './endpoint.js';
export * from './delegate.js';
export * from './runtime.js';
export * from './skel.js';
export { tabbyPlugin, cmdAdd, cmdDel, cmdCheck } from './plugin.js';
export { tabbyIpamPlugin, ipamAdd, ipamDel, ipamCheck, assignRequest } from './ipam-plugin.js';
export { createIpam } from './ipam-factory.js';
export { acquireIpamLock, withIpamLock, type IpamLock } from './ipam-lock.js';

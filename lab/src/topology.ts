// The lab's fixed layout: names and addresses, all derived from the node count, so every
// command (up, status, exec, down) agrees on them without asking the kernel.

import { join } from 'node:path';

export type Mode = 'bgp' | 'vxlan';

/** Namespace name prefix; TABBY_LAB_PREFIX lets tests run a lab beside a user's. */
export const NS_PREFIX = process.env['TABBY_LAB_PREFIX'] || 'tabby-lab-';
export const UNDERLAY_NS = `${NS_PREFIX}net`;
export const TOR_NS = `${NS_PREFIX}tor`;
export const ETCD_IP = '10.99.0.1';
export const ETCD_ENDPOINT = `http://${ETCD_IP}:2379`;
export const TOR_IP = '10.99.0.254';
export const TOR_AS = 65000;
export const CLUSTER_AS = 64512;
export const POOL_CIDR = '10.244.0.0/16';
export const PODS_PER_NODE = 2;
// --dual-stack: a ULA underlay beside the IPv4 one, and an IPv6 pool with Calico's default /122 blocks.
export const UNDERLAY6_LEN = 64;
export const ETCD_IP6 = 'fd00:99::1';
export const TOR_IP6 = 'fd00:99::fe';
export const POOL6_CIDR = 'fd10::/48';

export const labDir = () => process.env['TABBY_LAB_DIR'] || '/var/run/tabby-lab';
export const nodeName = (i: number) => `node-${i}`;
export const nodeNs = (i: number) => `${NS_PREFIX}${nodeName(i)}`;
export const nodeIp = (i: number) => `10.99.0.${10 + i}`;
/** Reads like the IPv4 address (node-1: 10.99.0.11, fd00:99::11); the digits are hex, so no clash. */
export const nodeIp6 = (i: number) => `fd00:99::${10 + i}`;
export const nodeDir = (i: number) => join(labDir(), nodeName(i));
export const podName = (i: number, j: number) => `pod-${i}-${j}`;

export interface LabState {
  nodes: number;
  mode: Mode;
  /** --dual-stack: IPv6 underlay, pool, sessions and pod addresses beside the IPv4 ones. */
  dualStack?: boolean;
  etcdPid: number;
  torPid?: number;
  agents: Record<string, number>;
  /** `namespace` is absent for pods of the Kubernetes namespace `default`. */
  pods: { node: string; name: string; ns: string; ip: string; ip6?: string; namespace?: string }[];
}

// Names of IPAM objects, as Calico derives them from block CIDRs.

import { parseCidr } from './net.js';

/** `10.244.1.0/26` -> `10-244-1-0-26`; IPv6 `fd00::/122` -> `fd00---122`. */
export function blockNameFromCidr(cidr: string): string {
  return cidr.replace(/[.:/]/g, '-');
}

/** Inverse of blockNameFromCidr (the last "-" separates the prefix length). */
export function cidrFromBlockName(name: string): string | undefined {
  const v4 = /^(\d+)-(\d+)-(\d+)-(\d+)-(\d+)$/.exec(name);
  let text: string;
  if (v4) text = `${v4[1]}.${v4[2]}.${v4[3]}.${v4[4]}/${v4[5]}`;
  else {
    const i = name.lastIndexOf('-');
    if (i < 0) return undefined;
    text = `${name.slice(0, i).replace(/-/g, ':')}/${name.slice(i + 1)}`;
  }
  return parseCidr(text) ? text : undefined;
}

export function blockAffinityName(node: string, cidr: string): string {
  return `${node}-${blockNameFromCidr(cidr)}`;
}

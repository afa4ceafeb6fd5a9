// ipam show [--ip=IP | --show-blocks | --show-borrowed | --show-configuration]: calicoctl's
// tables (go-pretty's bordered default style) over the read-side views of @tabby/ipam.

import { borrowedAddresses, IpamError, IpamStore, ipamUsage, lookupAddress, type AddressInfo, type BorrowedAddress, type PoolUsage } from '@tabby/ipam';
import { renderBordered } from '../../output/table.js';
import { CtlError } from '../../errors.js';
import type { Session } from '../../session.js';

export interface ShowOptions {
  ip?: string;
  showBlocks?: boolean;
  showBorrowed?: boolean;
  showConfiguration?: boolean;
}

/**
 * Go's `%.5g` for a whole number: up to five significant digits, exponent form (`1.6777e+07`)
 * from 100000 up, rounding half to even as Go does on exact values.
 */
export function goG5(n: bigint): string {
  const neg = n < 0n;
  const digits = (neg ? -n : n).toString();
  if (digits.length <= 5) return (neg ? '-' : '') + digits;
  let head = BigInt(digits.slice(0, 5));
  const rest = digits.slice(5);
  const half = '5' + '0'.repeat(rest.length - 1);
  if (rest > half || (rest === half && head % 2n === 1n)) head += 1n;
  let exp = digits.length - 1;
  let h = head.toString();
  if (h.length > 5) { h = h.slice(0, 5); exp++; }
  const mantissa = (h[0]! + '.' + h.slice(1)).replace(/\.?0+$/, '');
  return `${neg ? '-' : ''}${mantissa}e+${String(exp).padStart(2, '0')}`;
}

/** Go's `%.f` of 100*part/whole: the percentage rounded half to even. */
export function goPercent(part: bigint, whole: bigint): string {
  if (whole === 0n) return 'NaN';
  const num = 100n * part;
  const q = num / whole;
  const r2 = 2n * (num % whole);
  const up = r2 > whole || (r2 === whole && q % 2n === 1n);
  return String(up ? q + 1n : q);
}

const withPercent = (n: bigint, capacity: bigint) => `${goG5(n)} (${goPercent(n, capacity)}%)`;

export function renderUsage(usage: readonly PoolUsage[], showBlocks: boolean): string {
  const rows: string[][] = [];
  for (const p of usage) {
    if (p.cidr !== undefined) rows.push(['IP Pool', p.cidr, goG5(p.capacity), withPercent(BigInt(p.inUse), p.capacity), withPercent(p.free, p.capacity)]);
    if (showBlocks) {
      for (const b of p.blocks) {
        const cap = BigInt(b.capacity);
        rows.push(['Block', b.cidr, goG5(cap), withPercent(BigInt(b.inUse), cap), withPercent(BigInt(b.free), cap)]);
      }
    }
  }
  return renderBordered(['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE'], rows, { headers: 'left' });
}

export function renderBorrowed(borrowed: readonly BorrowedAddress[], unclassified: number): string {
  const rows = borrowed.map((b) => [b.address, b.borrowingNode, b.block, b.blockOwner, b.type, b.allocatedTo]);
  let out = renderBordered(['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO'], rows, { headers: 'left' });
  if (unclassified > 0) {
    out += `\nNote: found ${unclassified} IP allocations without an explicit node association. Unable to determine if they are borrowed.\n`;
  }
  return out;
}

function ownerAttrs(title: string, attrs: Record<string, string>): string {
  const keys = Object.keys(attrs).sort();
  if (keys.length === 0) return '';
  return `${title}:\n` + keys.map((k) => `  ${k}: ${attrs[k]}\n`).join('');
}

export function renderAddress(ip: string, info: AddressInfo | undefined): string {
  if (!info) return `${ip} is not assigned\n`;
  let out = `IP ${info.address} is in use\n`;
  out += `Handle ID: ${info.handleID ?? '<none>'}\n`;
  out += ownerAttrs('Active Owner Attributes', info.attrs) || 'No Active Owner attributes defined\n';
  out += ownerAttrs('Alternate Owner Attributes', info.alternateAttrs);
  return out;
}

export function renderConfiguration(cfg: { strictAffinity: boolean; autoAllocateBlocks: boolean; maxBlocksPerHost: number }): string {
  return renderBordered(['PROPERTY', 'VALUE'], [
    ['StrictAffinity', String(cfg.strictAffinity)],
    ['AutoAllocateBlocks', String(cfg.autoAllocateBlocks)],
    ['MaxBlocksPerHost', String(cfg.maxBlocksPerHost)],
  ], { headers: 'left' });
}

export async function runIpamShow(session: Session, opts: ShowOptions): Promise<void> {
  const ds = await session.datastore();
  if (opts.showConfiguration) {
    session.io.out(renderConfiguration(await new IpamStore(ds).getConfig()));
  } else if (opts.ip !== undefined) {
    let info: AddressInfo | undefined;
    try {
      info = await lookupAddress(ds, opts.ip);
    } catch (e) {
      if (e instanceof IpamError) throw new CtlError(`invalid IP address specified: ${opts.ip}`);
      throw e;
    }
    session.io.out(renderAddress(opts.ip, info));
  } else if (opts.showBorrowed) {
    const { borrowed, unclassified } = await borrowedAddresses(ds);
    session.io.out(renderBorrowed(borrowed, unclassified));
  } else {
    session.io.out(renderUsage(await ipamUsage(ds), opts.showBlocks === true));
  }
}

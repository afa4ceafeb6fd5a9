// ipam check: calicoctl's scan of IPAM against what uses the addresses (WorkloadEndpoints and
// node tunnel addresses here, where calicoctl reads Kubernetes pods), plus block/affinity and
// handle consistency. Problems are always listed; the exit code is 1 when there are any.

import { writeFileSync } from 'node:fs';
import { checkIpam, type IpamCheckReport } from '@tabby/ipam';
import { CtlError } from '../../errors.js';
import type { Session } from '../../session.js';

export interface CheckOptions {
  output?: string;
  showAllIps?: boolean;
}

function describe(attrs: Record<string, string>, handleID: string | undefined): string {
  const parts = [`handle ${handleID ?? '<none>'}`];
  for (const k of Object.keys(attrs).sort()) parts.push(`${k}=${attrs[k]}`);
  return parts.join(', ');
}

export function renderCheck(r: IpamCheckReport, showAll: boolean): string {
  const lines: string[] = ['Checking IPAM for inconsistencies...', '', 'Loading all IPAM blocks...', `Found ${r.blocks.length} IPAM blocks.`];
  for (const b of r.blocks) lines.push(` IPAM block ${b.cidr} affinity=${b.affinity ?? '<none>'}:`);
  if (showAll) for (const a of r.allocations) lines.push(`  ${a.address} allocated; ${describe(a.attrs, a.handleID)}`);
  lines.push(`IPAM blocks record ${r.allocations.length} allocations.`, '', 'Loading all IPAM pools...');
  for (const p of r.activePools) lines.push(`  ${p}`);
  lines.push(`Found ${r.activePools.length} active IP pools.`, '', 'Loading all nodes.', `Found ${r.nodeIPs} node tunnel IPs.`, '',
    'Loading all workload endpoints.', `Found ${r.workloadIPs} workload IPs.`, `Workloads and nodes are using ${r.inUseIPs} IPs.`, '');

  lines.push('Scanning for IPs that are allocated but not actually in use...');
  for (const l of r.leaked) lines.push(`  ${l.address} leaked: ${l.reason} (${describe(l.attrs, l.handleID)})`);
  lines.push(`Found ${r.leaked.length} IPs that are allocated in IPAM but not actually in use.`);
  lines.push('Scanning for IPs that are in use by a workload or node but not allocated in IPAM...');
  for (const o of r.outsidePools) lines.push(`  ${o.address} in use by ${o.owner} is not in any active IP pool.`);
  for (const o of r.notAllocated) lines.push(`  ${o.address} in use by ${o.owner} and in active IPAM pool but has no IPAM allocation.`);
  lines.push(`Found ${r.outsidePools.length} in-use IPs that are not in active IP pools.`);
  lines.push(`Found ${r.notAllocated.length} in-use IPs that are in active IP pools but have no corresponding IPAM allocation.`, '');

  lines.push('Scanning for IPAM handles with no matching IPs...');
  for (const h of r.leakedHandles) lines.push(`  ${h} doesn't have any active IPs.`);
  const matched = new Set(r.allocations.map((a) => a.handleID).filter((h) => h !== undefined)).size - r.missingHandles.length;
  lines.push(`Found ${r.leakedHandles.length} handles with no matching IPs (and ${matched} handles with matches).`);
  lines.push('Scanning for IPs with missing handle...');
  for (const h of r.missingHandles) lines.push(`  ${h} is in use in a block but doesn't exist.`);
  lines.push(`Found ${r.missingHandles.length} handles mentioned in blocks with no matching handle resource.`);
  lines.push('Scanning for IPAM blocks with no affinity...');
  for (const b of r.blocksWithoutAffinity) {
    lines.push(b.affinity ? `  ${b.cidr} names ${b.affinity} but that node has no BlockAffinity for it.` : `  ${b.cidr} has no affinity.`);
  }
  lines.push(`Found ${r.blocksWithoutAffinity.length} IPAM blocks with no affinity.`);
  lines.push('Scanning for block affinities with no matching block...');
  for (const a of r.danglingAffinities) lines.push(`  ${a.node} has a ${a.state} affinity for ${a.cidr} but the block is not theirs.`);
  lines.push(`Found ${r.danglingAffinities.length} block affinities with no matching block.`);
  lines.push(`Check complete; found ${r.problems} problems.`);
  return lines.join('\n') + '\n';
}

export async function runIpamCheck(session: Session, opts: CheckOptions): Promise<void> {
  const report = await checkIpam(await session.datastore());
  session.io.out(renderCheck(report, opts.showAllIps === true));
  if (opts.output) {
    try {
      writeFileSync(opts.output, JSON.stringify(report, null, 2) + '\n');
    } catch (e) {
      throw new CtlError(`cannot write the report to ${opts.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (report.problems > 0) throw new CtlError(`IPAM check found ${report.problems} problems`);
}

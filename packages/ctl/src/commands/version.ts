// version: client version and commit, then the cluster's version and type from ClusterInformation.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFoundError } from '@tabby/datastore';
import { pick, text } from '../kinds/columns.js';
import { CtlError } from '../errors.js';
import type { Session } from '../session.js';

const PKG_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function clientVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8')) as { version: string };
  return `v${pkg.version}`;
}

function gitCommit(): string {
  if (process.env['TABBY_GIT_COMMIT']) return process.env['TABBY_GIT_COMMIT'];
  try {
    return execFileSync('git', ['-C', PKG_DIR, 'rev-parse', '--short=9', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function runVersion(session: Session): Promise<void> {
  session.io.out(`Client Version:    ${clientVersion()}\nGit commit:        ${gitCommit()}\n`);
  try {
    const info = await (await session.datastore()).get('ClusterInformation', 'default');
    session.io.out(`Cluster Version:   ${text(pick(info, 'spec.calicoVersion'))}\nCluster Type:      ${text(pick(info, 'spec.clusterType'))}\n`);
  } catch (e) {
    const why = e instanceof NotFoundError ? 'ClusterInformation "default" does not exist yet (the node agent creates it)' : (e as Error).message;
    throw new CtlError(`Unable to retrieve Cluster Version or Type: ${why}`);
  }
}

// node refresh: BGP route refresh through bgpd's control socket — `in` asks the peers to send
// their routes again (after an import filter change), `out` sends ours again.

import { ControlUnavailable, DEFAULT_SOCKET, request } from '@tabby/bgpd';
import { CtlError } from '../../errors.js';
import type { Session } from '../../session.js';

export async function runNodeRefresh(session: Session, direction: string, peer: string | undefined, opts: { socket?: string }): Promise<void> {
  if (direction !== 'in' && direction !== 'out') throw new CtlError(`node refresh: direction must be in or out, not ${JSON.stringify(direction)}`);
  let result: { peers: string[] };
  try {
    result = (await request(opts.socket ?? DEFAULT_SOCKET, { cmd: 'refresh', direction, ...(peer ? { peer } : {}) })) as { peers: string[] };
  } catch (e) {
    if (e instanceof ControlUnavailable) throw new CtlError(`Tabby process is not running: ${e.message}.`);
    throw new CtlError((e as Error).message);
  }
  if (!result.peers.length) {
    session.io.out('No established session to refresh.\n');
    return;
  }
  const what = direction === 'in' ? 'Asked for a route refresh from' : 'Sent our routes again to';
  session.io.out(`${what}: ${result.peers.join(', ')}\n`);
}

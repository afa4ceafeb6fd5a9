// Client side of the control socket, used by `bgpd ctl` and `ctl node status`.

import { connect } from 'node:net';
import type { ControlRequest, ControlResponse } from './server.js';

export class ControlUnavailable extends Error {
  override name = 'ControlUnavailable';
}

export function request(path: string, req: ControlRequest, timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new ControlUnavailable(`no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ControlUnavailable(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? `bgpd is not running (no control socket at ${path})` : `${path}: ${e.message}`));
    });
    s.on('connect', () => s.write(JSON.stringify(req) + '\n'));
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      s.end();
      const res = JSON.parse(buf.slice(0, nl)) as ControlResponse;
      if (res.ok) resolve(res.result);
      else reject(new Error(res.error));
    });
  });
}

// Entry of the standalone CNI executable (Node single executable application): one binary
// serves both plugins and picks the role from the name it was run as (`tabby` or `tabby-ipam`),
// so the host's /opt/cni/bin needs no Node.js. Bundled to CommonJS by deploy/cni/bundle.mjs.
import { basename } from 'node:path';
import { main } from '../../packages/cni/dist/skel.js';
import { tabbyPlugin } from '../../packages/cni/dist/plugin.js';
import { tabbyIpamPlugin } from '../../packages/cni/dist/ipam-plugin.js';

// In a single executable argv[1] is the path the binary was run as (argv[0] is node's execPath).
const invoked = basename(process.argv[1] ?? process.execPath);
const ipam = invoked.includes('ipam');
main(ipam ? 'cni-ipam' : 'cni', ipam ? tabbyIpamPlugin : tabbyPlugin).catch((e) => {
  process.stderr.write(`${invoked}: ${e && e.message ? e.message : String(e)}\n`);
  process.exit(1);
});

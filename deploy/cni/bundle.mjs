// Bundles the CNI plugin (deploy/cni/sea-entry.mjs and everything it imports) into one CommonJS
// file for a Node single executable application. Run by scripts/build-cni-sea.sh, which passes
// the esbuild module's path in ESBUILD (esbuild is a build tool, not a dependency of the repo).
//
// One fix-up is needed: etcd3 loads its gRPC service definitions from .proto files next to its
// own source at run time; a single executable has no such files, so the definitions are parsed
// now and embedded as JSON (proto-loader's fromJSON takes the same options).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const [out] = process.argv.slice(2);
if (!out || !process.env.ESBUILD) {
  process.stderr.write('usage: ESBUILD=/path/to/esbuild/lib/main.js node deploy/cni/bundle.mjs OUT.cjs\n');
  process.exit(2);
}
const esbuild = (await import(pathToFileURL(process.env.ESBUILD).href)).default;

// Resolve etcd3 and protobufjs the way the datastore package does.
const req = createRequire(join(root, 'packages', 'datastore', 'package.json'));
const etcd3Dir = dirname(req.resolve('etcd3/package.json'));
const protobuf = createRequire(req.resolve('@grpc/proto-loader'))('protobufjs');
const rootNs = new protobuf.Root();
rootNs.loadSync(join(etcd3Dir, 'proto', 'rpc.proto'), { keepCase: true });
const protoJson = JSON.stringify(rootNs.toJSON());

const LOAD = /\(0, proto_loader_1\.loadSync\)\(`\$\{__dirname\}\/\.\.\/proto\/rpc\.proto`,/;
const embedProto = {
  name: 'embed-etcd3-proto',
  setup(build) {
    build.onLoad({ filter: /etcd3[\\/]lib[\\/]connection-pool\.js$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      if (!LOAD.test(src)) throw new Error(`${args.path}: the .proto loading call was not found (etcd3 changed?)`);
      return { contents: src.replace(LOAD, `(0, proto_loader_1.fromJSON)(${protoJson},`), loader: 'js' };
    });
  },
};

// Optional modules that libraries try to load inside try/catch (node-fetch's encoding, ws's native
// helpers): bundled as stubs that throw as a missing module would, so the single executable does
// not print its "require() only supports built-in modules" warning on every run.
const OPTIONAL = /^(encoding|bufferutil|utf-8-validate)$/;
const stubOptional = {
  name: 'stub-optional-modules',
  setup(build) {
    build.onResolve({ filter: OPTIONAL }, (args) => ({ path: args.path, namespace: 'optional-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'optional-stub' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`${args.path} is not bundled`)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};

await esbuild.build({
  entryPoints: [join(root, 'deploy', 'cni', 'sea-entry.mjs')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: out,
  plugins: [embedProto, stubOptional],
  logLevel: 'warning',
  // import.meta.url in ES modules bundled to CommonJS: the executable's own path.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
});

#!/usr/bin/env bash
# Builds the CNI plugin as a standalone executable (Node single executable application), for
# hosts without Node.js: the container's init step copies it into /opt/cni/bin as `tabby`,
# with `tabby-ipam` a hard link to it (the binary picks its role from the name it runs as).
#
#   scripts/build-cni-sea.sh [OUTDIR]     (default: dist/cni; needs `npx tsc -b` done first)
#
# esbuild (bundling) and postject (injecting the bundle into a copy of node) are build tools
# installed into a scratch directory, not dependencies of the repository.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/dist/cni}
ESBUILD_VERSION=0.28.2
POSTJECT_VERSION=1.0.0-alpha.6
tools=${TABBY_SEA_TOOLS:-$root/.tabby-run/sea-tools}

[ -f "$root/packages/cni/dist/skel.js" ] || { echo "build-cni-sea: packages/cni/dist missing: run npx tsc -b first" >&2; exit 1; }
mkdir -p "$out" "$tools"
if [ ! -f "$tools/node_modules/esbuild/lib/main.js" ] || [ ! -f "$tools/node_modules/postject/dist/cli.js" ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$tools" "esbuild@$ESBUILD_VERSION" "postject@$POSTJECT_VERSION" >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ESBUILD="$tools/node_modules/esbuild/lib/main.js" node "$root/deploy/cni/bundle.mjs" "$work/tabby.cjs"
cat > "$work/sea.json" <<JSON
{ "main": "$work/tabby.cjs", "output": "$work/tabby.blob", "disableExperimentalSEAWarning": true }
JSON
node --experimental-sea-config "$work/sea.json" >&2
cp "$(command -v node)" "$work/tabby"
chmod u+w "$work/tabby"
# Debug symbols are not needed in the plugin; stripping saves tens of MB when strip exists.
command -v strip >/dev/null && strip "$work/tabby" 2>/dev/null || true
node "$tools/node_modules/postject/dist/cli.js" "$work/tabby" NODE_SEA_BLOB "$work/tabby.blob" \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >&2
install -m 0755 "$work/tabby" "$out/tabby"
ln -f "$out/tabby" "$out/tabby-ipam"
echo "$out/tabby"

#!/usr/bin/env bash
# One bootstrap for every entry point (tests, lab, benchmarks): installs the Debian packages
# Tabby's tests and daemons need when they are missing, the npm dependencies, and builds.
# Safe to run repeatedly; it only does work that is not already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package providing it
declare -A DEB_FOR=(
  [etcd]=etcd-server
  [etcdctl]=etcd-client
  [ip]=iproute2
  [openssl]=openssl
  [bird]=bird2
  [birdc]=bird2
  [gobgpd]=gobgpd
  [vtysh]=frr
  [iptables]=iptables
  [ipset]=ipset
  [ping]=iputils-ping
  [tshark]=tshark
  [tcpdump]=tcpdump
)

# file -> Debian package providing it (for tools that are not commands on PATH)
declare -A DEB_FOR_FILE=(
  [/usr/lib/cni/portmap]=containernetworking-plugins
)

missing=()
for cmd in "${!DEB_FOR[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${DEB_FOR[$cmd]}")
done
for file in "${!DEB_FOR_FILE[@]}"; do
  [ -e "$file" ] || missing+=("${DEB_FOR_FILE[$file]}")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "bootstrap: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# BIRD 1.6 (the base of Calico's BIRD) conflicts with bird2 as an installed package, so its
# Debian .deb is unpacked privately for the interop tests.
BIRD16=.tabby-run/bird16
if [ ! -x "$BIRD16/usr/sbin/bird" ]; then
  echo "bootstrap: unpacking Debian's bird 1.6 into $BIRD16" >&2
  mkdir -p .tabby-run/deb "$BIRD16"
  ( cd .tabby-run/deb && (apt-get download bird >/dev/null 2>&1 || { apt-get update -qq && apt-get download bird >/dev/null; }) )
  dpkg-deb -x .tabby-run/deb/bird_*.deb "$BIRD16"
fi

# npm ci when node_modules was not installed from this exact lockfile.
if ! cmp -s package-lock.json node_modules/.tabby-lock 2>/dev/null; then
  echo "bootstrap: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.tabby-lock
fi

echo "bootstrap: building" >&2
npx tsc -b

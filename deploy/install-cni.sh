#!/bin/sh
# Init step of the tabby-node DaemonSet (image path /usr/local/bin/tabby-install-cni): installs
# the CNI plugin on the host and writes its network config, as Calico's install-cni does.
#
#  - copies the standalone plugin executable (no Node.js needed on the host) to
#    $HOST/opt/cni/bin/tabby, with tabby-ipam a hard link to it (one binary, two roles), and the
#    other plugins the image carries beside it (portmap, for hostPort);
#  - writes $HOST/etc/cni/net.d/$CNI_CONF_NAME from the template in CNI_NETWORK_CONFIG,
#    replacing __KUBERNETES_NODE_NAME__, __CNI_MTU__, __KUBECONFIG_FILEPATH__,
#    __ETCD_ENDPOINTS__, __ETCD_CA_CERT_FILE__, __ETCD_CERT_FILE__, __ETCD_KEY_FILE__;
#  - Kubernetes datastore (the template names __KUBECONFIG_FILEPATH__): writes a kubeconfig for
#    the plugin from the token and CA in TABBY_CNI_TOKEN_DIR (a service-account token Secret);
#  - etcd with TLS: copies the files named by ETCD_*_FILE next to the config (the kubelet runs the
#    plugin on the host, where the container's /tabby-secrets does not exist).
# Every file is written to a temporary name and renamed, so the kubelet never reads half a file.
set -eu

HOST=${TABBY_HOST_ROOT:-/host}
SRC=${TABBY_CNI_BIN_SRC:-/opt/tabby/cni-bin}
CONF_NAME=${CNI_CONF_NAME:-10-tabby.conflist}
BIN_DIR=/opt/cni/bin
NET_DIR=/etc/cni/net.d
KUBECONFIG_PATH=$NET_DIR/tabby-kubeconfig
TLS_DIR=$NET_DIR/tabby-tls
TOKEN_DIR=${TABBY_CNI_TOKEN_DIR:-/var/run/secrets/tabby-cni}

die() { echo "install-cni: $*" >&2; exit 1; }
[ -n "${CNI_NETWORK_CONFIG:-}" ] || die "CNI_NETWORK_CONFIG is empty: it must hold the conflist template (ConfigMap tabby-config, key cni_network_config)"
[ -n "${KUBERNETES_NODE_NAME:-}" ] || die "KUBERNETES_NODE_NAME is not set (fieldRef spec.nodeName)"
[ -x "$SRC/tabby" ] || die "$SRC/tabby is missing: the image was built without the CNI executable (scripts/build-cni-sea.sh)"
case "${CNI_MTU:-0}" in *[!0-9]*) die "CNI_MTU=${CNI_MTU}: must be a number (0: the plugin's default, 1500)";; esac

mkdir -p "$HOST$BIN_DIR" "$HOST$NET_DIR"

# Binaries: replace atomically, even while the kubelet may be running the old one.
cp "$SRC/tabby" "$HOST$BIN_DIR/.tabby.new"
chmod 0755 "$HOST$BIN_DIR/.tabby.new"
mv -f "$HOST$BIN_DIR/.tabby.new" "$HOST$BIN_DIR/tabby"
ln -f "$HOST$BIN_DIR/tabby" "$HOST$BIN_DIR/.tabby-ipam.new" 2>/dev/null || cp "$HOST$BIN_DIR/tabby" "$HOST$BIN_DIR/.tabby-ipam.new"
mv -f "$HOST$BIN_DIR/.tabby-ipam.new" "$HOST$BIN_DIR/tabby-ipam"
echo "install-cni: installed $BIN_DIR/tabby and $BIN_DIR/tabby-ipam"
# The other plugins the conflist chains (portmap), from the image, replaced the same way.
for f in "$SRC"/*; do
  name=${f##*/}
  case "$name" in tabby|tabby-ipam) continue;; esac
  [ -f "$f" ] && [ -x "$f" ] || continue
  cp "$f" "$HOST$BIN_DIR/.$name.new"
  chmod 0755 "$HOST$BIN_DIR/.$name.new"
  mv -f "$HOST$BIN_DIR/.$name.new" "$HOST$BIN_DIR/$name"
  echo "install-cni: installed $BIN_DIR/$name"
done

write() { # write DEST MODE: stdin to $HOST/DEST atomically
  cat > "$HOST$1.tmp"
  chmod "$2" "$HOST$1.tmp"
  mv -f "$HOST$1.tmp" "$HOST$1"
}

# etcd TLS material, copied to the host.
tls_file() { # tls_file SOURCE NAME -> prints the host path, or nothing without a source file
  [ -n "$1" ] || return 0
  [ -r "$1" ] || die "$1 (from ETCD_*_FILE) cannot be read"
  mkdir -p "$HOST$TLS_DIR"
  write "$TLS_DIR/$2" 0600 < "$1"
  echo "$TLS_DIR/$2"
}
ca=$(tls_file "${ETCD_CA_CERT_FILE:-}" etcd-ca)
cert=$(tls_file "${ETCD_CERT_FILE:-}" etcd-cert)
key=$(tls_file "${ETCD_KEY_FILE:-}" etcd-key)

kubeconfig=
case "$CNI_NETWORK_CONFIG" in *__KUBECONFIG_FILEPATH__*)
  [ -n "${KUBERNETES_SERVICE_HOST:-}" ] || die "KUBERNETES_SERVICE_HOST is not set: the kubelet sets it in pods; cannot write the plugin's kubeconfig"
  [ -r "$TOKEN_DIR/token" ] || die "$TOKEN_DIR/token is missing: mount the tabby-cni token Secret there (TABBY_CNI_TOKEN_DIR)"
  [ -r "$TOKEN_DIR/ca.crt" ] || die "$TOKEN_DIR/ca.crt is missing"
  host=$KUBERNETES_SERVICE_HOST
  case "$host" in *:*) host="[$host]";; esac
  write "$KUBECONFIG_PATH" 0600 <<KUBECONFIG
# Written by tabby-node's install-cni for the tabby CNI plugin; rewritten on every start.
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://$host:${KUBERNETES_SERVICE_PORT:-443}
    certificate-authority-data: $(base64 -w0 < "$TOKEN_DIR/ca.crt")
users:
- name: tabby-cni
  user:
    token: $(cat "$TOKEN_DIR/token")
contexts:
- name: tabby-cni-context
  context:
    cluster: local
    user: tabby-cni
current-context: tabby-cni-context
KUBECONFIG
  kubeconfig=$KUBECONFIG_PATH
  echo "install-cni: wrote $KUBECONFIG_PATH"
;; esac

# Values are substituted literally (sed with a separator that cannot occur in them).
sub() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }
printf '%s\n' "$CNI_NETWORK_CONFIG" | sed \
  -e "s|__KUBERNETES_NODE_NAME__|$(sub "$KUBERNETES_NODE_NAME")|g" \
  -e "s|__CNI_MTU__|${CNI_MTU:-0}|g" \
  -e "s|__KUBECONFIG_FILEPATH__|$(sub "$kubeconfig")|g" \
  -e "s|__ETCD_ENDPOINTS__|$(sub "${ETCD_ENDPOINTS:-}")|g" \
  -e "s|__ETCD_CA_CERT_FILE__|$(sub "$ca")|g" \
  -e "s|__ETCD_CERT_FILE__|$(sub "$cert")|g" \
  -e "s|__ETCD_KEY_FILE__|$(sub "$key")|g" | write "$NET_DIR/$CONF_NAME" 0644
echo "install-cni: wrote $NET_DIR/$CONF_NAME"

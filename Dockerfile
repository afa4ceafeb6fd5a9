# Tabby's node image: tabby-node (felix, confd, bgpd), ctl, and the standalone CNI executable
# that the DaemonSet's install-cni step copies to the hosts. Build from the repository root:
#   docker build -t tabby/node:0.1.0 .

# ---- build: compile the TypeScript, bundle the CNI plugin, drop dev dependencies -------------
FROM node:20-bookworm AS build
WORKDIR /src
# Manifests first, so the dependency layer is reused while only sources change.
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages/api/package.json packages/api/
COPY packages/bgpd/package.json packages/bgpd/
COPY packages/cni/package.json packages/cni/
COPY packages/confd/package.json packages/confd/
COPY packages/ctl/package.json packages/ctl/
COPY packages/datastore/package.json packages/datastore/
COPY packages/felix/package.json packages/felix/
COPY packages/ipam/package.json packages/ipam/
COPY packages/kube-controllers/package.json packages/kube-controllers/
COPY packages/linux/package.json packages/linux/
COPY packages/log/package.json packages/log/
COPY packages/node/package.json packages/node/
COPY test/support/package.json test/support/
RUN npm ci --no-audit --no-fund
COPY packages/ packages/
COPY deploy/cni/ deploy/cni/
COPY scripts/build-cni-sea.sh scripts/
# Only the shipped packages (tests, bench and lab are not in the image).
RUN npx tsc -b packages/node packages/felix packages/confd packages/bgpd packages/cni packages/ctl packages/kube-controllers
RUN bash scripts/build-cni-sea.sh /out/cni-bin
RUN npm prune --omit=dev --no-audit --no-fund

# ---- runtime -----------------------------------------------------------------------------------
FROM node:20-bookworm-slim
# iproute2: routes, links, addresses; iptables (legacy and nft) and ipset: felix's dataplane;
# kmod: modprobe for ipip and ip_set modules; containernetworking-plugins: the portmap plugin
# (hostPort) that the conflist chains after tabby, installed on the hosts by install-cni.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 iptables ipset kmod containernetworking-plugins \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/tabby
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules/ node_modules/
COPY --from=build /src/packages/ packages/
COPY --from=build /out/cni-bin/ /opt/tabby/cni-bin/
COPY deploy/install-cni.sh /usr/local/bin/tabby-install-cni
RUN ln -s /opt/tabby/packages/node/bin/tabby-node.js /usr/local/bin/tabby-node \
 && ln -s /opt/tabby/packages/ctl/bin/ctl.js /usr/local/bin/ctl \
 && ln -s /opt/tabby/packages/bgpd/bin/bgpd.js /usr/local/bin/bgpd \
 && ln -s /opt/tabby/packages/kube-controllers/bin/tabby-kube-controllers.js /usr/local/bin/tabby-kube-controllers \
 && install -m 0755 /usr/lib/cni/portmap /opt/tabby/cni-bin/portmap \
 && chmod 0755 /usr/local/bin/tabby-install-cni
ENV TABBY_STATE_DIR=/var/run/tabby
ENTRYPOINT ["/usr/local/bin/tabby-node"]

# flotilla's container image, for those who have Docker:
#   docker build -t flotilla:$(node -p "require('./package.json').version") .
# It is the image `make image` builds without Docker (hack/image/build.sh; e2e/image/ runs it): the
# Debian trixie packages of hack/image/packages with the dpkg excludes of hack/image/dpkg-excludes,
# the user flotilla (65532) from hack/image/setup-rootfs.sh, flotilla's files from
# hack/image/app-layer.sh (the bundled program, no node_modules, the pinned helm and kustomize), and
# the same user, working directory and entrypoint (e2e/image/ checks these three against this
# file). One difference: this base is debian:trixie-slim, which also carries apt, where make
# image's base is mmdebstrap's, Debian's Essential set alone. This file cannot be built on the
# machine that tests flotilla (it has no Docker engine); make image is what is proven there.

# The pinned helm and kustomize, built by hack/testenv from their go.mod files, as make image takes them.
FROM golang:1.26-trixie AS tools
WORKDIR /src
COPY hack/testenv/ hack/testenv/
RUN mkdir /tools \
 && cp "$(FLOTILLA_CACHE_DIR=/cache hack/testenv/testenv bin helm)" "$(FLOTILLA_CACHE_DIR=/cache hack/testenv/testenv bin kustomize)" /tools/

# flotilla's layer: bundled with the dev dependencies (esbuild); the bundle needs no node_modules.
FROM debian:trixie-slim AS app
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY crds/ crds/
COPY src/ src/
COPY hack/build.ts hack/
COPY hack/image/app-layer.sh hack/image/
COPY --from=tools /tools/ /tools/
RUN hack/image/app-layer.sh /layer /tools/helm /tools/kustomize

FROM debian:trixie-slim
COPY hack/image/dpkg-excludes /etc/dpkg/dpkg.cfg.d/flotilla-excludes
COPY hack/image/packages hack/image/setup-rootfs.sh /tmp/flotilla-image/
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(grep -v '^#' /tmp/flotilla-image/packages) \
 && /tmp/flotilla-image/setup-rootfs.sh / \
 && rm -rf /var/lib/apt/lists/* /tmp/flotilla-image
COPY --from=app /layer/ /
LABEL org.opencontainers.image.title=flotilla org.opencontainers.image.licenses=Apache-2.0
USER 65532:65532
WORKDIR /home/flotilla
ENTRYPOINT ["/usr/local/bin/flotilla"]

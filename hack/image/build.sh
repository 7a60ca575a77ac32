#!/usr/bin/env bash
# `make image`: builds flotilla's container image as an OCI image layout, without a Docker engine,
# and prints its reference, LAYOUT:TAG (umoci's syntax), on stdout; progress goes to stderr.
#
# Debian's packages do it, because this machine and its CI have no Docker engine or registry but do
# reach Debian's archive (hack/debian-packages.sh installs them): mmdebstrap makes the root
# filesystem (hack/image/base.sh says why), and umoci writes the OCI layout and its config (user,
# entrypoint, env) from plain tar layers, and unpacks it into a runtime bundle for the test. buildah
# would need a storage driver and its own state under /var/lib/containers; skopeo only copies images
# that already exist. The Dockerfile at the repository's root builds the same image where Docker
# runs: the same packages, dpkg excludes, user, files and entrypoint (it runs packages,
# dpkg-excludes, setup-rootfs.sh and app-layer.sh from here too).
#
# Two layers: the Debian root filesystem (base.sh), and flotilla's (app-layer.sh: the bundled
# program and dashboard page, the pinned helm and kustomize from hack/testenv). The image is
# cached by a digest of all its inputs under ${FLOTILLA_CACHE_DIR:-~/.cache/flotilla}/image/, so a
# warm machine rebuilds nothing, and a change to flotilla's code rebuilds only its own layer.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/hack/image"
cache="${FLOTILLA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla}/image"
# The fixed timestamp of every file and of the image's config, so equal inputs give equal layers.
export SOURCE_DATE_EPOCH=0
created=1970-01-01T00:00:00Z
uid=65532 # the uid and gid setup-rootfs.sh gives the user flotilla

log() { echo "hack/image/build.sh: $*" >&2; }

helm="$("$root/hack/testenv/testenv" bin helm)"
kustomize="$("$root/hack/testenv/testenv" bin kustomize)"
version="$(node -p 'require(process.argv[1]).version' "$root/package.json")"

base="$("$here/base.sh")"
# The image's inputs: the base, every file flotilla's layer is made from, the tools, this script.
image_key="$(
  {
    echo "$base"
    cd "$root"
    git ls-files -z --cached --others --exclude-standard -- src crds package.json package-lock.json tsconfig.json hack/build.ts |
      sort -z | xargs -0 sha256sum
    sha256sum "$helm" "$kustomize" | cut -d' ' -f1
    cat "$here/build.sh" "$here/app-layer.sh"
  } | sha256sum | cut -c1-16
)"
image="$cache/flotilla-$image_key"
if [ -d "$image" ]; then
  echo "$image:$version"
  exit 0
fi

work="$(mktemp -d "$cache/build-XXXXXX")"
trap 'rm -rf "$work"' EXIT
started=$SECONDS

log "building flotilla $version's layer"
app="$work/app"
"$here/app-layer.sh" "$app" "$helm" "$kustomize"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" -C "$app" -cf "$work/app.tar" opt usr

# The base's blobs are hard links, not copies, so each image costs only its own layer on disk; umoci
# writes new blobs to new files and rewrites only index.json, which is a copy.
mkdir "$work/image"
cp "$base/index.json" "$base/oci-layout" "$work/image/"
cp -al "$base/blobs" "$work/image/blobs"
umoci raw add-layer --image "$work/image:base" \
  --history.created "$created" --history.created_by "flotilla $version: the bundled program, helm, kustomize" "$work/app.tar"
umoci config --image "$work/image:base" --tag "$version" --no-history --created "$created" \
  --config.user "$uid:$uid" --config.workingdir /home/flotilla \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.entrypoint /usr/local/bin/flotilla \
  --config.label org.opencontainers.image.title=flotilla \
  --config.label org.opencontainers.image.version="$version" \
  --config.label org.opencontainers.image.licenses=Apache-2.0
umoci rm --image "$work/image:base"
umoci gc --layout "$work/image"

compressed="$(node -e '
  const fs = require("node:fs"), path = require("node:path"), dir = process.argv[1];
  const blob = (d) => path.join(dir, "blobs", ...d.split(":"));
  const index = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8"));
  const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), "utf8"));
  console.log(manifest.layers.map((l) => l.size).reduce((a, b) => a + b, 0));
' "$work/image")"
log "flotilla:$version: $((compressed / 1000000)) MB in compressed layers; built in $((SECONDS - started)) s"
# Another build of the same inputs may have finished first: then its layout is the one.
mv -T "$work/image" "$image" 2>/dev/null || true
# Every commit makes a new image: keep the newest few, so a CI machine's cache stays bounded.
ls -dt "$cache"/flotilla-* | tail -n +4 | xargs -r rm -rf
echo "$image:$version"

#!/usr/bin/env bash
# The base layer of flotilla's image (hack/image/build.sh): Debian trixie's Essential set plus
# hack/image/packages, made by mmdebstrap, as a one-layer OCI layout. Prints the layout's folder,
# cached under ${FLOTILLA_CACHE_DIR:-~/.cache/flotilla}/image/ by a digest of this script, the files
# it reads and mmdebstrap's version. Debian's security updates reach the cached layer when one of
# those changes or the folder is removed; the key does not follow the archive by itself, so that a
# warm CI never rebuilds it.
#
# Why mmdebstrap: it builds a root filesystem from Debian's archive without a container engine,
# checks the packages' signatures with apt, installs no Recommends here, leaves no apt lists or
# caches behind, and honours SOURCE_DATE_EPOCH. The Essential set keeps dpkg and its database, so
# image scanners (Trivy, Grype) see every package and its version. Trixie, not this machine's
# bookworm: bookworm's nodejs is 18.20, older than package.json's engines (>= 20.19); trixie's is
# 20.19, with updates and security fixes from trixie-updates and trixie-security.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${FLOTILLA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla}/image"
suite=trixie
mirror=http://deb.debian.org
export SOURCE_DATE_EPOCH=0

key="$({ mmdebstrap --version && cat "$here/base.sh" "$here/packages" "$here/dpkg-excludes" "$here/setup-rootfs.sh"; } | sha256sum | cut -c1-16)"
base="$cache/base-$key"
if [ -d "$base" ]; then
  echo "$base"
  exit 0
fi
mkdir -p "$cache"
work="$(mktemp -d "$cache/build-XXXXXX")"
trap 'rm -rf "$work"' EXIT
packages="$(grep -v '^#' "$here/packages" | paste -sd,)"
echo "hack/image/base.sh: building the Debian $suite base layer with $packages" >&2
mmdebstrap --quiet --variant=essential --include="$packages" \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt="$here/dpkg-excludes" \
  --customize-hook="$here/setup-rootfs.sh \"\$1\"" \
  "$suite" "$work/base.tar" \
  "deb $mirror/debian $suite main" \
  "deb $mirror/debian $suite-updates main" \
  "deb $mirror/debian-security $suite-security main"
umoci init --layout "$work/base"
umoci new --image "$work/base:base"
umoci raw add-layer --image "$work/base:base" --history.created 1970-01-01T00:00:00Z \
  --history.created_by "mmdebstrap --variant=essential $suite + hack/image/packages" "$work/base.tar"
# Another build of the same inputs may have finished first: then its layout is the one.
mv -T "$work/base" "$base" 2>/dev/null || true
# Bases of earlier inputs: the images made from them keep their blobs (hard links), not their folder.
ls -dt "$cache"/base-* | tail -n +3 | xargs -r rm -rf
echo "$base"

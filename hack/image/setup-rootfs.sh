#!/bin/sh
# Makes the non-root user flotilla runs as in its image, in the root filesystem at $1 (`/` in the
# Dockerfile, mmdebstrap's target in hack/image/build.sh): uid and gid 65532, the id distroless and
# most operator images use for "nonroot", so a Pod's runAsUser and a PSP/PSA policy can name it.
# Written straight into /etc/passwd and /etc/group because useradd (package passwd) is not part of
# Debian's Essential set, and the image should not carry it just for this.
set -eu
root="${1:?usage: setup-rootfs.sh ROOT}"
grep -q '^flotilla:' "$root/etc/group" || echo 'flotilla:x:65532:' >>"$root/etc/group"
grep -q '^flotilla:' "$root/etc/passwd" ||
  echo 'flotilla:x:65532:65532:flotilla:/home/flotilla:/usr/sbin/nologin' >>"$root/etc/passwd"
mkdir -p "$root/home/flotilla"
chown 65532:65532 "$root/home/flotilla"
chmod 0750 "$root/home/flotilla"

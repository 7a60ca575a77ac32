#!/usr/bin/env bash
# Installs, from Debian's archive, the programs the tests run for real and that Go cannot build for
# us: OpenSSH's server (Git over SSH); mmdebstrap, umoci and runc, which build the container image
# and run it without a Docker engine (hack/image/build.sh and e2e/image/ say why these); Chromium,
# the real browser the dashboard's e2e drives through puppeteer-core (e2e/dashboard/). Each is
# named by the file it provides, so a machine that has it (however it got there) installs nothing.
# apt-get needs root: run as root, or with sudo available.
set -euo pipefail
declare -A provides=(
  [openssh-server]=/usr/sbin/sshd
  [mmdebstrap]=/usr/bin/mmdebstrap
  [umoci]=/usr/bin/umoci
  [runc]=/usr/sbin/runc
  [chromium]=/usr/bin/chromium
)
missing=()
for package in "${!provides[@]}"; do
  [ -x "${provides[$package]}" ] || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "hack/debian-packages.sh: the tests need ${missing[*]}; install it as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  as_root=(sudo)
fi
echo "installing ${missing[*]} from Debian's archive"
"${as_root[@]}" apt-get update -qq
# The tests start their own sshd on loopback; a system sshd the package may start is not used.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

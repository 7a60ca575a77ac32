#!/usr/bin/env bash
# Assembles flotilla's own image layer into the folder DEST, from the repository this script is in
# (with its dev dependencies installed, for esbuild): hack/image/build.sh tars it, the Dockerfile
# copies it, so both images hold exactly the same files.
#   /opt/flotilla   the bundled program and the dashboard's page (dist/, from hack/build.ts, without
#                   the source map), crds/ and package.json (its version); the bundle holds every
#                   npm dependency it uses, so there are no node_modules
#   /usr/local/bin  flotilla, and the helm and kustomize given (the ones hack/testenv pins)
set -euo pipefail
dest="${1:?usage: app-layer.sh DEST HELM KUSTOMIZE}" helm="${2:?}" kustomize="${3:?}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
app="$dest/opt/flotilla"
mkdir -p "$app" "$dest/usr/local/bin"
cp -r "$root/crds" "$root/package.json" "$app/"
(cd "$root" && npx tsx hack/build.ts "$app/dist" --no-sourcemap)
ln -s /opt/flotilla/dist/flotilla.mjs "$dest/usr/local/bin/flotilla"
install -m 0755 "$helm" "$dest/usr/local/bin/helm"
install -m 0755 "$kustomize" "$dest/usr/local/bin/kustomize"

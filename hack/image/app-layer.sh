#!/usr/bin/env bash
# Assembles flotilla's own image layer into the folder DEST, from the repository this script is in
# (with its dev dependencies installed, for tsc): hack/image/build.sh tars it, the Dockerfile copies
# it, so both images hold exactly the same files.
#   /opt/flotilla   what the npm package ships (bin/, dist/src/, crds/, package.json) and the
#                   production node_modules, without type declarations and source maps
#   /usr/local/bin  flotilla, and the helm and kustomize given (the ones hack/testenv pins)
set -euo pipefail
dest="${1:?usage: app-layer.sh DEST HELM KUSTOMIZE}" helm="${2:?}" kustomize="${3:?}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
app="$dest/opt/flotilla"
mkdir -p "$app" "$dest/usr/local/bin"
cp -r "$root/bin" "$root/crds" "$root/package.json" "$root/package-lock.json" "$app/"
(cd "$root" && npx tsc -p tsconfig.build.json --outDir "$app/dist" --sourceMap false)
# The dashboard's page: the chart's in-cluster dashboard serves it from the image.
"$root/hack/dashboard-bundle.sh" "$app/dist/src/dashboard/ui"
rm -rf "$app/dist/bench"
# No install scripts: flotilla's production dependencies are plain JavaScript and need none.
(cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
# Node never reads these at run time; they are 44 of client-node's 57 MB.
find "$app/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete
ln -s /opt/flotilla/bin/flotilla.js "$dest/usr/local/bin/flotilla"
install -m 0755 "$helm" "$dest/usr/local/bin/helm"
install -m 0755 "$kustomize" "$dest/usr/local/bin/kustomize"

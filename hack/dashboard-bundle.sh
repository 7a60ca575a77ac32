#!/usr/bin/env bash
# Bundles the dashboard's page (esbuild) into OUTDIR as app.js and app.css, where the server reads
# them (dist/src/dashboard/ui/): `make build` and the image's layer (hack/image/app-layer.sh) alike.
set -euo pipefail
out="${1:?usage: dashboard-bundle.sh OUTDIR}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
npx esbuild src/dashboard/ui/main.tsx --bundle --minify --format=esm --target=es2022 --jsx=automatic --jsx-import-source=preact \
  --log-level=warning --outfile="$out/app.js"

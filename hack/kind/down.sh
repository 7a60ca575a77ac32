#!/usr/bin/env bash
# Deletes the kind clusters hack/kind/up.sh created.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
planes=(${KIND_PLANES:-$(tr -d '[]",' < "$root/e2e/framework/planes.json")})
for name in "${planes[@]}"; do kind delete cluster --name "flotilla-$name" || true; done
rm -rf "${FLOTILLA_TESTENV_DIR:-$root/.kind}"

#!/usr/bin/env bash
# Creates the e2e planes (hub, spoke-1, spoke-2) as kind clusters where a Docker engine runs, and
# publishes them the way hack/testenv does (FLOTILLA_TESTENV_DIR/NAME/state.json + kubeconfig), so
# the same e2e suite runs against them. Not exercised in this project's CI (no Docker engine there).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${FLOTILLA_TESTENV_DIR:-$root/.kind}"
planes=(${KIND_PLANES:-$(tr -d '[]",' < "$root/e2e/framework/planes.json")})
image="${KIND_NODE_IMAGE:-kindest/node:v1.36.3}"
for tool in kind kubectl docker; do
  command -v "$tool" >/dev/null || { echo "hack/kind: $tool is not on PATH" >&2; exit 1; }
done
docker info >/dev/null 2>&1 || { echo "hack/kind: no Docker engine answers (docker info failed)" >&2; exit 1; }
bin_dir="$(dirname "$(command -v kubectl)")"
for name in "${planes[@]}"; do
  cluster="flotilla-$name"
  mkdir -p "$dir/$name"
  if ! kind get clusters 2>/dev/null | grep -qx "$cluster"; then
    kind create cluster --name "$cluster" --image "$image" --wait 120s
  fi
  kind get kubeconfig --name "$cluster" > "$dir/$name/kubeconfig"
  server="$(kubectl --kubeconfig "$dir/$name/kubeconfig" config view -o jsonpath='{.clusters[0].cluster.server}')"
  cat > "$dir/$name/state.json" <<JSON
{"name": "$name", "supervisorPID": 0, "phase": "Ready", "apiServerURL": "$server", "apiServerState": "Running",
 "kubeconfig": "$dir/$name/kubeconfig", "binDir": "$bin_dir", "pids": {}, "provider": "kind"}
JSON
done

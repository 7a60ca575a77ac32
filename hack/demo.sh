#!/usr/bin/env bash
# Prints how to reach the demo's control planes (started by `make demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(hack/testenv/testenv build 2>/dev/null)"
cat <<EOT

flotilla demo: a local hub and two spokes are running (etcd, kube-apiserver, controller-manager,
scheduler and kwok fake nodes each, on loopback).

  $(hack/testenv/testenv status | sed 's/^/  /' | sed '1s/^  //')

Reach them with the pinned kubectl:
  export PATH="$bin:\$PATH"
  kubectl --kubeconfig .testenv/hub/kubeconfig get namespaces
  kubectl --kubeconfig .testenv/spoke-1/kubeconfig get nodes

Stop everything:  make demo-down
EOT

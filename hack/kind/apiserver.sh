#!/usr/bin/env bash
# hack/kind/apiserver.sh NAME stop|start: the kind counterpart of `testenv apiserver NAME stop|start`;
# pausing the node container takes the whole control plane off the network, as an outage does.
set -euo pipefail
case "${2:-}" in
  stop) docker pause "flotilla-$1-control-plane" >/dev/null ;;
  start) docker unpause "flotilla-$1-control-plane" >/dev/null ;;
  *) echo "usage: hack/kind/apiserver.sh NAME stop|start" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The demo (`make demo`, after `testenv up hub spoke-1 spoke-2`): installs flotilla on the hub, runs
# the hub operator and an agent per spoke in the background (pid files and logs in $DEMO), joins
# spoke-1 as eu-west-1 and spoke-2 as eu-central-1 with the labels examples/ gives them, applies
# examples/, approves the canary stage of the web service and waits until it is Ready everywhere.
# `hack/demo.sh down` (make demo-down) stops the processes; the Makefile then stops the planes.
# Honours FLOTILLA_TESTENV_DIR like testenv does.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLOTILLA_TESTENV_DIR="${FLOTILLA_TESTENV_DIR:-$PWD/.testenv}"
DEMO="$FLOTILLA_TESTENV_DIR/demo"
HUB="$FLOTILLA_TESTENV_DIR/hub/kubeconfig"

flotilla() { dist/flotilla.mjs "$@"; }

stop_all() {
  for pidfile in "$DEMO"/*.pid; do
    [ -e "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

if [ "${1:-}" = down ]; then
  stop_all
  exit 0
fi

# Runs `flotilla ARGS...` in the background as NAME, unless it already runs.
start() {
  local name="$1"; shift
  if [ -e "$DEMO/$name.pid" ] && kill -0 "$(cat "$DEMO/$name.pid")" 2>/dev/null; then return; fi
  nohup dist/flotilla.mjs "$@" >>"$DEMO/$name.log" 2>&1 &
  echo $! >"$DEMO/$name.pid"
}

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
  local timeout="$1"; shift
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "timed out waiting for: $*" >&2; return 1; fi
    sleep 1
  done
}

mkdir -p "$DEMO"
bin="$(hack/testenv/testenv build 2>/dev/null)"
kubectl() { "$bin/kubectl" "$@"; }

echo "==> installing the CRDs on the hub"
flotilla install --kubeconfig "$HUB" >/dev/null
echo "==> starting the hub operator (log: $DEMO/hub.log)"
start hub hub --kubeconfig "$HUB" --health-address 127.0.0.1:0
kubectl --kubeconfig "$HUB" apply --server-side --field-manager flotilla-demo -f examples/00-fleet.yaml >/dev/null

join() {
  local plane="$1" name="$2"; shift 2
  echo "==> joining $plane as $name ($*)"
  local labels=()
  for label in "$@"; do labels+=(--label "$label"); done
  flotilla join "$name" --fleet prod "${labels[@]}" --kubeconfig "$HUB" -o "$DEMO/$name-bootstrap.yaml"
  kubectl --kubeconfig "$FLOTILLA_TESTENV_DIR/$plane/kubeconfig" apply -f "$DEMO/$name-bootstrap.yaml" >/dev/null
  start "agent-$name" agent --kubeconfig "$FLOTILLA_TESTENV_DIR/$plane/kubeconfig" --identity "$name" --health-address 127.0.0.1:0
}
join spoke-1 eu-west-1 env=prod region=eu-west tier=canary
join spoke-2 eu-central-1 env=prod region=eu-central

echo "==> applying examples/ (us-east-1 is a paused member with no plane behind it)"
kubectl --kubeconfig "$HUB" apply --server-side --field-manager flotilla-demo -f examples/ >/dev/null

ready() { [ "$(kubectl --kubeconfig "$HUB" get globalservice web -n fleet-prod -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
awaiting() { [ "$(kubectl --kubeconfig "$HUB" get globalservice web -n fleet-prod -o jsonpath='{.status.rollout.phase}')" = AwaitingApproval ] || ready; }
echo "==> waiting for the canary stage (eu-west-1) to be Available"
wait_for 300 awaiting
if ! ready; then
  revision="$(kubectl --kubeconfig "$HUB" get globalservice web -n fleet-prod -o jsonpath='{.status.revision}')"
  echo "==> approving the next stage: flotilla.dev/approved-stage=canary@$revision"
  kubectl --kubeconfig "$HUB" annotate globalservice web -n fleet-prod --overwrite "flotilla.dev/approved-stage=canary@$revision" >/dev/null
fi
echo "==> waiting for the web service to be Ready"
wait_for 300 ready

echo "==> starting the dashboard (log: $DEMO/dashboard.log; FLOTILLA_DASHBOARD_PORT picks its port)"
start dashboard dashboard --kubeconfig "$HUB" --port "${FLOTILLA_DASHBOARD_PORT:-0}"
wait_for 120 grep -q 'flotilla dashboard: serving' "$DEMO/dashboard.log"
dashboard_url="$(grep -o 'flotilla dashboard: serving [^ ]*' "$DEMO/dashboard.log" | tail -1 | cut -d' ' -f4)"

echo
flotilla status --kubeconfig "$HUB"
cat <<EOT

Dashboard (live, read-only, as your hub kubeconfig's identity): $dashboard_url

flotilla demo: a hub and two spokes (etcd, kube-apiserver, controller-manager, scheduler and kwok
fake nodes each, on loopback), the hub operator, two agents and the dashboard (pids and logs in $DEMO).

Poke at it with the pinned kubectl:
  export PATH="$bin:\$PATH"
  kubectl --kubeconfig $HUB get globalservices,works -A
  kubectl --kubeconfig $FLOTILLA_TESTENV_DIR/spoke-1/kubeconfig get deploy,cm -n web -o wide
  kubectl --kubeconfig $FLOTILLA_TESTENV_DIR/spoke-2/kubeconfig get cm web-config -n web -o jsonpath='{.data.greeting}'
  kubectl --kubeconfig $HUB edit globalservice web -n fleet-prod      # a new revision rolls out
  dist/flotilla.mjs status --kubeconfig $HUB

Stop everything:  make demo-down
EOT

# flotilla — every entry point a developer, CI and the README use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

TESTENV := hack/testenv/testenv
JEST := NODE_OPTIONS=--experimental-vm-modules npx jest
DEMO_PLANES := hub spoke-1 spoke-2

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.package-lock.json ## install the npm dependencies (npm ci)

.PHONY: generate
generate: deps ## regenerate crds/, src/api/generated/ from schemas/
	npx tsx hack/codegen/main.ts

.PHONY: verify-generated
verify-generated: deps ## fail when a generated file is stale
	npx tsx hack/codegen/main.ts --check

.PHONY: build
build: deps ## bundle the program into dist/flotilla.mjs and the dashboard's page into dist/ui/ (esbuild: hack/build.ts)
	npx tsx hack/build.ts

.PHONY: lint
lint: deps ## typecheck, check formatting (make format fixes it) and lint everything
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p src/dashboard/ui/tsconfig.json
	npx prettier --check --log-level warn .
	npx eslint .
	cd hack/testenv/tool && test -z "$$(gofmt -l .)" && go vet .
	cd hack/health && test -z "$$(gofmt -l .)" && go vet .

.PHONY: format
format: deps ## format the TypeScript and JavaScript with Prettier (make lint checks it)
	npx prettier --write --log-level warn .

.PHONY: testenv
testenv: ## build (or find cached) kube-apiserver, controller-manager, scheduler, kubectl, etcd, kwok, helm, kustomize, registry
	$(TESTENV) build

.PHONY: testenv-flux
testenv-flux: ## also build Flux's source-controller and kustomize-controller, which the GitOps e2e runs on the hub
	$(TESTENV) build --with flux

.PHONY: system-packages
system-packages: ## install the Debian packages the e2e tests run (openssh-server; mmdebstrap, umoci, runc for the image) when missing
	hack/debian-packages.sh

.PHONY: image
image: deps system-packages ## build the container image as an OCI layout in the cache, without Docker (hack/image/build.sh); prints LAYOUT:TAG
	@hack/image/build.sh

.PHONY: test-unit
test-unit: deps ## unit tests
	$(JEST) --selectProjects unit

.PHONY: test-health
test-health: ## kstatus and Argo CD's Lua health scripts on every captured kind and state (Go: cli-utils, gopher-lua)
	cd hack/health && go test -count=1 ./...

.PHONY: test-e2e
test-e2e: deps build system-packages $(if $(filter kind,$(E2E_PROVIDER)),,testenv testenv-flux) ## e2e tests on local control planes (E2E_PROVIDER=kind: kind clusters)
	$(JEST) --selectProjects e2e --runInBand

.PHONY: test
test: verify-generated lint build testenv testenv-flux system-packages ## everything CI runs: generated files, lint, unit, health and e2e tests
	$(MAKE) test-health
	$(JEST) --runInBand

.PHONY: health-fixtures
health-fixtures: build ## re-capture test/health/fixtures from the controllers on running planes (testenv up hub spoke-1 spoke-2)
	npx tsx hack/health/capture.ts

.PHONY: demo
demo: build testenv ## a local hub and two spokes running flotilla and the examples (FLOTILLA_TESTENV_DIR moves its state)
	$(TESTENV) up $(DEMO_PLANES)
	@hack/demo.sh

.PHONY: demo-down
demo-down: ## stop the demo's operator, agents and control planes
	-@hack/demo.sh down
	$(TESTENV) down

.PHONY: clean
clean: ## remove build output and stop local planes
	-$(TESTENV) down
	rm -rf dist .testenv

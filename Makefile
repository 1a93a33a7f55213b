# labs: see README.md. `make ci` is what CI runs.
SHELL := /bin/bash
GO      ?= go
BIN     := bin/labs
E2E_TIMEOUT ?= 40m
FUZZTIME ?= 30s

.PHONY: build release e2e-release test race unit-ci e2e browser bench-start bench-report lint image verify-image ci clean bench bench-checks bench-watch fuzz

# kustomize_disable_go_plugin_support: see .goreleaser.yaml (21 MiB less).
# Every go command here builds with it, so tests, vet and the release share
# compiled packages.
TAGS    := kustomize_disable_go_plugin_support

build: ## the labs binary
	$(GO) build -tags $(TAGS) -buildvcs=auto -o $(BIN) ./cmd/labs

release: ## every release target with GoReleaser (snapshot in dist/: linux and macOS amd64+arm64, Windows amd64, checksums); each binary <= 90 MiB
	$(GO) tool -modfile=hack/tools/go.mod goreleaser release --snapshot --clean --skip=publish --parallelism 1
	bash hack/checksize.sh dist 90

e2e-release: ## the cluster suite with the linux/amd64 release binary from `make release` as `labs` (what `make ci` does)
	@bin=$$(ls -d $(CURDIR)/dist/labs_linux_amd64*/labs 2>/dev/null | head -1); \
	  [ -x "$$bin" ] || { echo "no linux/amd64 release binary in dist/: run make release first" >&2; exit 1; }; \
	  echo "e2e with $$bin"; LABS_BINARY=$$bin $(MAKE) e2e

test: ## unit tests: no cluster, no Docker, fast; and every built-in lab linted
	$(GO) test -tags $(TAGS) -count=1 ./...
	$(GO) run -tags $(TAGS) ./cmd/labs lint labs

fuzz: ## fuzz the lab parser briefly (FUZZTIME=30s)
	$(GO) test -run '^$$' -tags $(TAGS) -fuzz FuzzParse -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./content

# The concurrent packages: the check engine, the runner, the load generator.
RACE_PKGS := ./checks ./runner ./assets/labapp

race: ## the concurrent packages (check engine, runner, load generator) under the race detector
	CGO_ENABLED=1 $(GO) test -tags $(TAGS) -race -count=1 $(RACE_PKGS)

unit-ci: ## what CI runs of `make test` and `make race`: every package's tests once, the concurrent ones under the race detector only; every built-in lab linted
	@set -o pipefail; pkgs=$$($(GO) list ./... | grep -vxF -e github.com/labs-dev/labs/checks -e github.com/labs-dev/labs/runner -e github.com/labs-dev/labs/assets/labapp); \
	  $(GO) test -tags $(TAGS) -count=1 $$pkgs
	CGO_ENABLED=1 $(GO) test -tags $(TAGS) -race -count=1 $(RACE_PKGS)
	$(GO) run -tags $(TAGS) ./cmd/labs lint labs

# With LABS_BINARY (a release build) the suite needs no bin/labs, and its
# test binary is compiled as the release is (static, -trimpath), so it
# reuses the release build's compiled packages instead of compiling every
# dependency again (CI exports the same for every go command: hack/ci.sh).
E2E_BUILD := $(if $(LABS_BINARY),,build)
E2E_FLAGS := $(if $(LABS_BINARY),-trimpath) -tags e2e,$(TAGS)

e2e: $(E2E_BUILD) ## cluster suite: real kind clusters, three scripts at once (E2E_LANES=3); needs Docker and KIND_NODE_IMAGE; LABS_BINARY=path runs that labs binary; deletes the clusters
	@# The failing lines again at the end: a CI excerpt shows the tail.
	@# testscript names the script by its path in the harness's temp dir.
	@set -o pipefail; $(if $(LABS_BINARY),CGO_ENABLED=0) $(GO) test $(E2E_FLAGS) -count=1 -timeout $(E2E_TIMEOUT) -run TestIntegration -v ./cmd/app 2>&1 | tee bin/e2e.log \
	  || { echo "== e2e failures:"; grep -E '✗ [a-z]+ step [0-9]+:' bin/e2e.log | cut -c1-300 | tail -8; \
	       grep -E -B6 'FAIL: .*\.txtar:[0-9]+:|panic:' bin/e2e.log | cut -c1-400 | tail -30; exit 1; }

browser: ## the class page in Debian's chromium, headless (apt-get install chromium); screenshots in bin/artifacts
	$(GO) test -tags browser,$(TAGS) -count=1 -run TestPageInABrowser -v ./runner/classview

lint: ## gofmt and go vet, including the e2e and browser files
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...
	$(GO) vet -tags e2e,$(TAGS) ./cmd/app
	$(GO) vet -tags browser,$(TAGS) ./runner/classview

image: ## rebuild the embedded workload binaries (assets/image)
	$(GO) run ./hack/mkimage

verify-image: image ## fail if the committed workload binaries are stale
	@git diff --exit-code --stat assets/image || { echo "assets/image is stale: run 'make image' and commit"; exit 1; }

# CI tests the release binary itself and runs the cluster suite as soon as
# that binary is built, with lint, unit, race, fuzz, image freshness and the
# browser test beside it (hack/ci.sh); every other release target builds in
# the background meanwhile (hack/release-bg.sh), which then checks its copy
# of this machine's binary is the one tested.
ci:
	bash hack/ci.sh

clean:
	rm -rf bin

bench: bench-checks bench-watch bench-report ## load generator vs hey on localhost, and check decision latency on the lab cluster
	bash hack/bench.sh

bench-start: ## labs start/stop/resume/down against kind create, same image (needs Docker and KIND_NODE_IMAGE; RUNS=2)
	bash hack/startbench.sh

bench-report: ## what a progress write costs with a class server that is down (laptop mode), against none
	$(GO) test -run '^$$' -bench BenchmarkProgressWrite -benchtime 300x -count 3 ./runner

bench-watch: build ## labs watch: change -> ✓ latency, idle CPU and memory with 200 pods (needs a lab cluster: labs start)
	$(GO) run ./hack/watchbench -labs $(BIN)

bench-checks: ## how fast object and events checks decide (needs a running lab cluster: labs start)
	$(GO) run ./hack/checkbench

# labs: see README.md. `make ci` is what CI runs.
SHELL := /bin/bash
GO      ?= go
BIN     := bin/labs
E2E_TIMEOUT ?= 40m
FUZZTIME ?= 30s

.PHONY: build test race e2e browser bench-report lint image verify-image ci clean bench bench-checks bench-watch fuzz

build: ## the labs binary
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/labs

test: ## unit tests: no cluster, no Docker, fast; and every built-in lab linted
	$(GO) test -count=1 ./...
	$(GO) run ./cmd/labs lint labs

fuzz: ## fuzz the lab parser briefly (FUZZTIME=30s)
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./content

race: ## the concurrent packages (check engine, runner, load generator) under the race detector
	$(GO) test -race -count=1 ./checks ./runner ./assets/labapp

e2e: build ## cluster suite: real kind clusters (needs Docker and KIND_NODE_IMAGE); deletes them
	@# The failing lines again at the end: a CI excerpt shows the tail.
	@set -o pipefail; $(GO) test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -run TestIntegration -v ./cmd/app 2>&1 | tee bin/e2e.log \
	  || { echo "== e2e failures:"; grep -E -B2 'FAIL: testdata|panic:' bin/e2e.log | tail -30; exit 1; }

browser: ## the class page in Debian's chromium, headless (apt-get install chromium); screenshots in bin/artifacts
	$(GO) test -tags browser -count=1 -run TestPageInABrowser -v ./runner/classview

lint: ## gofmt and go vet, including the e2e and browser files
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./cmd/app
	$(GO) vet -tags browser ./runner/classview

image: ## rebuild the embedded workload binaries (assets/image)
	$(GO) run ./hack/mkimage

verify-image: image ## fail if the committed workload binaries are stale
	@git diff --exit-code --stat assets/image || { echo "assets/image is stale: run 'make image' and commit"; exit 1; }

ci: lint test race fuzz verify-image browser e2e

clean:
	rm -rf bin

bench: bench-checks bench-watch bench-report ## load generator vs hey on localhost, and check decision latency on the lab cluster
	bash hack/bench.sh

bench-report: ## what a progress write costs with a class server that is down (laptop mode), against none
	$(GO) test -run '^$$' -bench BenchmarkProgressWrite -benchtime 300x -count 3 ./runner

bench-watch: build ## labs watch: change -> ✓ latency, idle CPU and memory with 200 pods (needs a lab cluster: labs start)
	$(GO) run ./hack/watchbench -labs $(BIN)

bench-checks: ## how fast object and events checks decide (needs a running lab cluster: labs start)
	$(GO) run ./hack/checkbench

# sqlgate's build and test entry points. `make test` is the single command that
# CI (.ci/run) and developers run on a fresh machine: it starts MariaDB and
# PostgreSQL when they are down, creates the test databases, runs the linters,
# the Go tests with the race detector, every fuzz target for 10 s, and the
# end-to-end suites in e2e/ (aws CLI, boto3, JS SDK, curl; the web console
# in headless Chromium).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

GO ?= go
STATICCHECK_VERSION ?= v0.8.2
# go install puts tools in GOBIN when set, else GOPATH/bin.
GOBIN_DIR := $(or $(shell $(GO) env GOBIN),$(firstword $(subst :, ,$(shell $(GO) env GOPATH)))/bin)
STATICCHECK := $(GOBIN_DIR)/staticcheck
BIN ?= bin/sqlgate

# The Go tests' real-database helpers fail instead of skipping when
# SQLGATE_REQUIRE_DB is set, so CI cannot go silently green.
export SQLGATE_REQUIRE_DB := 1
export SQLGATE_TEST_MYSQL_DSN := sqlgate:sqlgatepw@tcp(127.0.0.1:3306)/sqlgate_test
export SQLGATE_TEST_PG_URL := postgres://sqlgate:sqlgatepw@127.0.0.1:5432/sqlgate_test

.PHONY: test services clients lint fmt vet staticcheck unit fuzz e2e build clean

# FUZZTIME is how long `make fuzz` runs each fuzz target; `make test` uses 10s.
FUZZTIME ?= 30s

test: FUZZTIME = 10s
test: services lint unit fuzz e2e

lint: fmt vet staticcheck

build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/sqlgate

services:
	bash e2e/services.sh

clients:
	bash e2e/clients.sh

fmt:
	@out=$$(gofmt -l .); \
	if [[ -n "$$out" ]]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi
	@echo "gofmt: ok"

vet:
	$(GO) vet ./...

staticcheck:
	@if ! "$(STATICCHECK)" -version 2>/dev/null | grep -q "$(STATICCHECK_VERSION:v%=%)"; then \
		echo "installing staticcheck@$(STATICCHECK_VERSION)"; \
		$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); \
	fi
	"$(STATICCHECK)" ./...

# The replicated topology (e2e/replicas.sh, ~10 s the first time) runs on
# its own ports beside the services; the topology tests require it.
unit: services clients
	eval "$$(bash e2e/replicas.sh start)"; \
	SQLGATE_REQUIRE_REPLICAS=1 $(GO) test -race -count=1 -timeout 25m ./...

fuzz:
	FUZZTIME=$(FUZZTIME) bash .ci/fuzz.sh

e2e: services
	bash e2e/run.sh
	bash e2e/console.sh

clean:
	rm -rf bin

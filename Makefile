# Postcard. `make help` lists the targets; `make run` and `make test` are the
# two a fresh Debian or Ubuntu machine needs.

GO ?= go
# How long each fuzz target runs: briefly in `make test`, longer in `make fuzz`.
FUZZTIME ?= 15s
# fuzz_run runs one fuzz target of ./mailer for FUZZTIME. go test -fuzz
# passes when no target matches, so a renamed target would go unfuzzed
# unnoticed: check that it exists first.
fuzz_run = grep -qs '^func $(1)(' mailer/*_test.go || { echo 'no fuzz target $(1) in mailer/*_test.go' >&2; exit 1; }; \
	$(GO) test -run '^$$' -fuzz='^$(1)$$' -fuzztime=$(FUZZTIME) ./mailer/
# Arguments for `make run`, e.g. make run ARGS=check
ARGS ?=

# The keychain and CLI tests run against a real, throwaway gnome-keyring in a
# private D-Bus session and HOME. macOS has its own keychain, which the tests
# leave alone.
ifeq ($(shell uname -s),Linux)
WITH_KEYRING := sh .ci/with-keyring.sh
endif

# The steps of `test` run one after another, in the order written, and the
# first that fails stops it.
.NOTPARALLEL:
.DEFAULT_GOAL := help
.PHONY: help deps build run test check-fmt vet test-race fuzz-short fuzz clean

help: ## List the targets.
	@echo 'Usage: make TARGET'
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  %-10s  %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

deps: ## Install the missing system packages (apt-get, as root or through sudo) and check Go.
	@bash .ci/deps.sh

build: ## Build bin/postcard.
	$(GO) build -o bin/postcard ./cmd/postcard

run: deps build ## Install what is missing, build, and open the window (make run ARGS=check runs a command).
	./bin/postcard $(ARGS)

test: deps check-fmt vet build test-race fuzz-short ## Everything CI runs: deps, gofmt, vet, build, race tests, brief fuzzing.

check-fmt: ## Fail if a Go file is not gofmt-formatted.
	@echo 'gofmt -l .'
	@files=$$("$$($(GO) env GOROOT)/bin/gofmt" -l .) || exit 1; \
	if [ -n "$$files" ]; then \
		echo "gofmt: these files are not formatted (run gofmt -w on them):"; \
		echo "$$files"; \
		exit 1; \
	fi

vet: ## Run go vet.
	$(GO) vet ./...

test-race: ## Run all tests with the race detector, the keychain tests against a real gnome-keyring.
	$(WITH_KEYRING) $(GO) test -race -count=1 ./...

fuzz-short: ## Run each fuzz target for FUZZTIME (15s).
	$(call fuzz_run,FuzzParseAddressList)
	$(call fuzz_run,FuzzHeaderValues)

fuzz: FUZZTIME = 5m
fuzz: ## Run each fuzz target for 5 minutes (make fuzz FUZZTIME=1h for longer); new crashers land in mailer/testdata/fuzz.
	$(call fuzz_run,FuzzParseAddressList)
	$(call fuzz_run,FuzzHeaderValues)

clean: ## Remove what the build wrote (bin/, dist/).
	rm -rf bin dist

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
# The developer tools build only with these tags, so that go install ./...
# installs postcard alone: bench for cmd/bench and its bare window (make
# bench), generate for the programs go generate runs. vet and test-race set
# them, so that the tools are checked and cannot rot unnoticed.
TOOL_TAGS := bench,generate

# The keychain and CLI tests run against a real, throwaway gnome-keyring in a
# private D-Bus session and HOME. macOS has its own keychain, which the tests
# leave alone.
ifeq ($(shell uname -s),Linux)
WITH_KEYRING := sh .ci/with-keyring.sh
endif

# Packaging. FyneApp.toml is the one source of the app's name, ID, version and
# build; the fyne tool (pinned here) packages the release. See .ci/package.sh.
FYNE_TOOL_VERSION := v1.7.4
FYNE := bin/fyne-$(FYNE_TOOL_VERSION)/fyne
toml_value = $(shell sed -n 's/^$(1) *= *"\([^"]*\)".*/\1/p' FyneApp.toml)
APP_VERSION = $(call toml_value,Version)
LINUX_PACKAGE = dist/postcard-$(APP_VERSION)-linux-$(shell $(GO) env GOARCH).tar.xz
WINDOWS_PACKAGE = dist/postcard-$(APP_VERSION)-windows-amd64.exe

# The steps of `test` run one after another, in the order written, and the
# first that fails stops it.
.NOTPARALLEL:
.DEFAULT_GOAL := help
.PHONY: help deps build run test check-fmt vet test-race fuzz-short fuzz clean \
	package package-windows check-package install uninstall icons

help: ## List the targets.
	@echo 'Usage: make TARGET'
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  %-15s  %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

deps: ## Install the missing system packages (apt-get, as root or through sudo) and check Go.
	@bash .ci/deps.sh

build: ## Build bin/postcard.
	$(GO) build -o bin/postcard ./cmd/postcard

run: deps build ## Install what is missing, build, and open the window (make run ARGS=check runs a command).
	./bin/postcard $(ARGS)

test: deps check-fmt vet build test-race fuzz-short ## What a developer runs: deps, gofmt, vet, build, race tests, brief fuzzing (CI then runs check-package).

check-fmt: ## Fail if a Go file is not gofmt-formatted.
	@echo 'gofmt -l .'
	@files=$$("$$($(GO) env GOROOT)/bin/gofmt" -l .) || exit 1; \
	if [ -n "$$files" ]; then \
		echo "gofmt: these files are not formatted (run gofmt -w on them):"; \
		echo "$$files"; \
		exit 1; \
	fi

vet: ## Run go vet, on the developer tools too.
	$(GO) vet -tags $(TOOL_TAGS) ./...

test-race: ## Run all tests with the race detector, the keychain tests against a real gnome-keyring.
	$(WITH_KEYRING) $(GO) test -race -count=1 -tags $(TOOL_TAGS) ./...
	@dir=$${POSTCARD_E2E_SHOTS:-bin/e2e-shots}; if [ -d "$$dir" ]; then \
		echo "Screenshots of the window from the end-to-end test (cmd/postcard TestWindow_KeyboardSend), in $$dir/:"; \
		ls -l "$$dir"; \
	fi

fuzz-short: ## Run each fuzz target for FUZZTIME (15s).
	$(call fuzz_run,FuzzParseAddressList)
	$(call fuzz_run,FuzzHeaderValues)
	$(call fuzz_run,FuzzReply)

fuzz: FUZZTIME = 5m
fuzz: ## Run each fuzz target for 5 minutes (make fuzz FUZZTIME=1h for longer); new crashers land in mailer/testdata/fuzz.
	$(call fuzz_run,FuzzParseAddressList)
	$(call fuzz_run,FuzzHeaderValues)
	$(call fuzz_run,FuzzReply)

# make bench measures start-up, idle memory and sending against a bare Fyne
# window and curl, runs the mailer's Go benchmarks and a soak, and writes
# BENCHMARKS.md (cmd/bench). It stores a throwaway password, so it runs under
# the private keyring too. Flags for it go in BENCHFLAGS, e.g.
# make bench BENCHFLAGS='-runs 11 -load-wait 15m'.
BENCHFLAGS ?=
# make crash-test kills the real binary at random instants while it sends
# the Outbox, KILLS times (make test does it 100 times).
KILLS ?= 1000
.PHONY: crash-test
crash-test: deps build ## Kill postcard KILLS (1000) times while it sends the Outbox; every message once or unconfirmed, none lost.
	POSTCARD_CRASH_KILLS=$(KILLS) $(WITH_KEYRING) $(GO) test -count=1 -timeout 60m -run '^TestCrash_' -v ./cmd/postcard/

.PHONY: bench
bench: deps ## Benchmark against a bare Fyne window and curl; writes BENCHMARKS.md (Linux, 3 to 10 minutes).
	$(GO) build -tags bench -o bin/bench ./cmd/bench
	$(WITH_KEYRING) ./bin/bench $(BENCHFLAGS)

# The fyne tool, installed into bin/ under its version so that changing
# FYNE_TOOL_VERSION installs the new one.
$(FYNE):
	GOBIN=$(CURDIR)/$(dir $(FYNE)) $(GO) install fyne.io/tools/cmd/fyne@$(FYNE_TOOL_VERSION)

# On a Mac, make package makes Postcard.app (untested: there is no Mac here).
ifeq ($(shell uname -s),Darwin)
package: deps $(FYNE) ## Build the release with the fyne tool: dist/postcard-VERSION-linux-ARCH.tar.xz (dist/Postcard.app on a Mac).
	bash .ci/package.sh $(FYNE) darwin dist/Postcard.app

install uninstall:
	@echo 'On a Mac, run make package and drag dist/Postcard.app into Applications (or out of it to uninstall).' >&2; exit 1
else
package: deps $(FYNE)
	bash .ci/package.sh $(FYNE) linux $(LINUX_PACKAGE)

install: package ## Install for this user, no root: ~/.local/bin/postcard, the menu entry and the icons.
	bash .ci/install.sh install $(LINUX_PACKAGE)

uninstall: ## Remove exactly what make install installed.
	bash .ci/install.sh uninstall
endif

package-windows: deps $(FYNE) ## Cross-compile the release for Windows with mingw-w64: dist/postcard-VERSION-windows-amd64.exe.
	bash .ci/package.sh $(FYNE) windows $(WINDOWS_PACKAGE)

check-package: package package-windows ## Build both packages and check them (the .desktop file validates, the .exe is PE32+ GUI with an icon).
	GO=$(GO) bash .ci/check-package.sh $(LINUX_PACKAGE) $(WINDOWS_PACKAGE)

icons: ## Render assets/*.png from the SVGs (needs rsvg-convert: apt-get install librsvg2-bin).
	@command -v rsvg-convert >/dev/null || { echo 'make icons needs rsvg-convert: apt-get install librsvg2-bin' >&2; exit 1; }
	rsvg-convert -w 512 -h 512 assets/icon.svg -o assets/icon.png
	rsvg-convert -w 256 -h 256 assets/icon.svg -o assets/icon-256.png
	rsvg-convert -w 128 -h 128 assets/icon.svg -o assets/icon-128.png
	rsvg-convert -w 64 -h 64 assets/icon.svg -o assets/icon-64.png
	rsvg-convert -w 48 -h 48 assets/icon.svg -o assets/icon-48.png
	rsvg-convert assets/icon-32.svg -o assets/icon-32.png
	rsvg-convert assets/icon-16.svg -o assets/icon-16.png

clean: ## Remove what the build wrote (bin/, dist/).
	rm -rf bin dist

# mobileplans — see README.md. Every target installs what it needs.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
export GOFLAGS := -buildvcs=false
GO ?= go
# Debian packages the build and the tests need (installed idempotently by `make deps`);
# modemmanager and dbus-daemon run the real ModemManager in modem/mm/mmtest's harness.
APT_PACKAGES := ca-certificates gcc libc6-dev chromium libnss3-tools modemmanager dbus-daemon xvfb
PKGS := ./...

.PHONY: all build deps test test-short bench lint crossbuild demo fuzz clean

all: build

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go 1.26 is required (https://go.dev/dl); not found in PATH" >&2; exit 1; }
	@$(GO) mod download

build: deps
	$(GO) build -o bin/mobileplans .

lint: deps
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.helpers/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Builds that must stay pure Go (no cgo) for every OS.
crossbuild: deps
	CGO_ENABLED=0 GOOS=linux   $(GO) build -tags nogui -o /dev/null .
	CGO_ENABLED=0 GOOS=windows $(GO) build -tags nogui -o /dev/null .
	CGO_ENABLED=0 GOOS=darwin  $(GO) build -tags nogui -o /dev/null .
	CGO_ENABLED=0 GOOS=windows $(GO) build ./esim/... ./modem/... ./app/... ./cli/... ./service/... ./ui/portal/...
	CGO_ENABLED=0 GOOS=darwin  $(GO) build ./esim/... ./modem/... ./app/... ./cli/... ./service/... ./ui/portal/...

# The whole suite: lint, cross builds, unit + integration tests with the race
# detector (fuzz seed corpora run as part of go test).
test: lint crossbuild
	$(GO) test -race -timeout 15m $(PKGS)

test-short: deps
	$(GO) test -short $(PKGS)

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s $(PKGS)

# Run every fuzz target for FUZZTIME each (not part of `make test`).
FUZZTIME ?= 30s
fuzz: deps
	@for pkg in $$($(GO) list $(PKGS)); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

demo: build
	./scripts/demo.sh

clean:
	rm -rf bin

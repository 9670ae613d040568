# mobileplans — see README.md. Every target installs what it needs.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
export GOFLAGS := -buildvcs=false
GO ?= go
# Debian packages the build and the tests need (installed idempotently by `make deps`, which
# installs only the missing ones), by what needs them:
# - the C toolchain for cgo (Fyne, WebKitGTK, the ModemManager harness) and the TLS roots;
APT_BASE := ca-certificates gcc libc6-dev pkg-config
# - the portal in Chromium over DevTools (ui/portal/chromium), trusting the test CAs through NSS;
APT_CHROMIUM := chromium libnss3-tools
# - the real ModemManager daemon on a private D-Bus in modem/mm/mmtest's harness;
APT_MM := modemmanager dbus-daemon
# - Fyne 2.8.1's cgo build of the desktop UI (GLFW 3.4 with both X11 and Wayland back ends:
#   GL, X11 and its extensions, Wayland client, xkbcommon);
APT_FYNE := libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev \
	libxxf86vm-dev libwayland-dev libxkbcommon-dev
# - the WebKitGTK portal helper (cmd/mobileplans-portal, built with -tags webkit);
APT_WEBKIT := libwebkit2gtk-4.1-dev
# - windows on a virtual X display in tests (Xvfb), driving and inspecting them (xdotool; xprop,
#   xwininfo from x11-utils) and screenshots of them (ImageMagick's import and convert);
APT_X11 := xvfb xdotool x11-utils imagemagick
# - validating the .desktop and AppStream files under packaging/linux (make check-packaging).
APT_PACKAGING := desktop-file-utils appstream
APT_PACKAGES := $(APT_BASE) $(APT_CHROMIUM) $(APT_MM) $(APT_FYNE) $(APT_WEBKIT) $(APT_X11) $(APT_PACKAGING)
PKGS := ./...

# Build tags of the desktop UI build: FyneApp.toml declares the fyne.Do migration
# ([Migrations] fyneDo), which `fyne build` turns into this tag; go build needs it spelled out.
GUI_TAGS ?= migrated_fynedo

# make install: PREFIX and DESTDIR as usual (make install DESTDIR=/tmp/stage PREFIX=/usr).
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/bin
DATADIR := $(PREFIX)/share
# The application ID (FyneApp.toml, assets.AppID): names the .desktop, metainfo and icon files.
APP_ID := io.github.mobileplans.MobilePlans
# The hicolor icons as installed below $(DATADIR)/icons: hicolor/NxN/apps/$(APP_ID).png, scalable SVG.
HICOLOR_ICONS := $(patsubst assets/icons/%,%,$(sort $(wildcard assets/icons/hicolor/*/apps/$(APP_ID).*)))

.PHONY: all build deps test test-short bench lint crossbuild demo fuzz clean install uninstall refresh-caches check-packaging

all: build

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go 1.26 is required (https://go.dev/dl); not found in PATH" >&2; exit 1; }
	@$(GO) mod download

# bin/mobileplans (the desktop UI, cgo) and bin/mobileplans-portal (the WebKitGTK portal helper).
build: deps
	$(GO) build -tags '$(GUI_TAGS)' -o bin/mobileplans .
	@if [ -d cmd/mobileplans-portal ]; then \
		echo "$(GO) build -tags webkit -o bin/mobileplans-portal ./cmd/mobileplans-portal"; \
		$(GO) build -tags webkit -o bin/mobileplans-portal ./cmd/mobileplans-portal; \
	else \
		echo "cmd/mobileplans-portal does not exist (yet): bin/mobileplans-portal not built"; \
	fi

# Installs what `make build` built, the desktop entry, the AppStream metainfo and the icons.
# The caches are refreshed only for a live install (no DESTDIR) and only where the tools exist.
install:
	@test -x bin/mobileplans || { echo "bin/mobileplans missing: run make build first" >&2; exit 1; }
	@test -x bin/mobileplans-portal || [ ! -d cmd/mobileplans-portal ] || \
		{ echo "bin/mobileplans-portal missing: run make build first" >&2; exit 1; }
	install -Dm755 bin/mobileplans $(DESTDIR)$(BINDIR)/mobileplans
	@if [ -x bin/mobileplans-portal ]; then \
		echo "install -Dm755 bin/mobileplans-portal $(DESTDIR)$(BINDIR)/mobileplans-portal"; \
		install -Dm755 bin/mobileplans-portal $(DESTDIR)$(BINDIR)/mobileplans-portal; \
	else \
		echo "cmd/mobileplans-portal does not exist (yet): mobileplans-portal not installed"; \
	fi
	install -Dm644 packaging/linux/$(APP_ID).desktop $(DESTDIR)$(DATADIR)/applications/$(APP_ID).desktop
	install -Dm644 packaging/linux/$(APP_ID).metainfo.xml $(DESTDIR)$(DATADIR)/metainfo/$(APP_ID).metainfo.xml
	@for f in $(HICOLOR_ICONS); do \
		echo "install -Dm644 assets/icons/$$f $(DESTDIR)$(DATADIR)/icons/$$f"; \
		install -Dm644 assets/icons/$$f $(DESTDIR)$(DATADIR)/icons/$$f || exit 1; \
	done
	@$(MAKE) --no-print-directory refresh-caches

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mobileplans $(DESTDIR)$(BINDIR)/mobileplans-portal
	rm -f $(DESTDIR)$(DATADIR)/applications/$(APP_ID).desktop $(DESTDIR)$(DATADIR)/metainfo/$(APP_ID).metainfo.xml
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/icons/,$(HICOLOR_ICONS))
	@$(MAKE) --no-print-directory refresh-caches

refresh-caches:
	@if [ -z "$(DESTDIR)" ]; then \
		if command -v update-desktop-database >/dev/null; then \
			echo "update-desktop-database -q $(DATADIR)/applications"; \
			update-desktop-database -q $(DATADIR)/applications || true; \
		fi; \
		if command -v gtk-update-icon-cache >/dev/null && [ -d $(DATADIR)/icons/hicolor ]; then \
			echo "gtk-update-icon-cache -q -t -f $(DATADIR)/icons/hicolor"; \
			gtk-update-icon-cache -q -t -f $(DATADIR)/icons/hicolor || true; \
		fi; \
	fi

# Validates the .desktop file and the AppStream metainfo (offline).
check-packaging: deps
	desktop-file-validate packaging/linux/$(APP_ID).desktop
	appstreamcli validate --no-net packaging/linux/$(APP_ID).metainfo.xml

# go vet with the race detector's build settings: vet compiles what it checks, and with the
# same settings as `go test -race` the two share one build (cold, plain vet compiled
# everything, cgo included, a second time: 225 s of a cold CI run).
lint: deps
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.helpers/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -race $(PKGS)

# Builds that must stay pure Go (no cgo) for every OS.
crossbuild: deps
	CGO_ENABLED=0 GOOS=linux   $(GO) build -tags nogui -o /dev/null .
	CGO_ENABLED=0 GOOS=windows $(GO) build -tags nogui -o /dev/null .
	CGO_ENABLED=0 GOOS=darwin  $(GO) build -tags nogui -o /dev/null .
	CGO_ENABLED=0 GOOS=windows $(GO) build ./esim/... ./modem/... ./app/... ./cli/... ./service/... ./ui/portal/... ./assets/
	CGO_ENABLED=0 GOOS=darwin  $(GO) build ./esim/... ./modem/... ./app/... ./cli/... ./service/... ./ui/portal/... ./assets/

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

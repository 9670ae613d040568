#!/usr/bin/env bash
# The demo: the whole Mobile Plans journey on the bundled stack (discovery
# service, Contoso Cellular's portal and MO API, SM-DP+, a simulated modem
# with a simulated eUICC on a real pty), then the same eUICC through the
# lpac-like CLI. Real TLS, real ECDSA/ECDH/AES, the portal in Chromium.
#
# With a display the portal opens in a Chromium window for you to click
# through; without one (or with DEMO_HEADLESS=1) it runs in headless
# Chromium and the autopilot script walks it. DEMO_INTERACTIVE=1 shows the
# headless portal as text in the terminal for you to walk instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/mobileplans
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stack=$work/stack

echo "=== 1. Buy a plan and activate it: mobileplans activate --mock"
args=(activate --mock --mock-dir "$stack")
if [ -n "${DEMO_INTERACTIVE:-}" ]; then
	args+=(--browser headless)
elif [ -z "${DEMO_HEADLESS:-}" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
	echo "(the portal opens in a Chromium window: sign up, pick a plan, buy)"
	args+=(--browser window)
else
	args+=(--operator contoso --autopilot scripts/contoso-autopilot.txt)
	exec </dev/null
fi
echo "\$ mobileplans ${args[*]}"
"$bin" "${args[@]}"

echo
echo "=== 2. The same eUICC through the CLI (what a device maker scripts)"
common=(--sim "$stack/euicc.json" --test-pki "$stack/test-pki")
run() { echo; echo "\$ mobileplans $*"; "$bin" "${common[@]}" "$@"; }
run profile list
run notification list
run chip info
run modem info

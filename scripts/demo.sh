#!/usr/bin/env bash
# The demo: the whole Mobile Plans journey on the bundled stack (discovery
# service, Contoso Cellular's portal and MO API, SM-DP+, a simulated modem
# with a simulated eUICC on a real pty), then the same eUICC through the
# lpac-like CLI. Real TLS, real ECDSA/ECDH/AES, the portal in Chromium.
#
# With a display it starts the desktop app (mobileplans ui --mock): pick
# Contoso Cellular, buy a plan in its portal window (WebKitGTK, else a
# Chromium window), and see the profile enabled; quit the app to go on
# (DEMO_AUTOPILOT=1 fills in the portal for you).
# Without a display (or with DEMO_HEADLESS=1) the same journey runs in the
# terminal: `mobileplans activate` with headless Chromium walked by the
# autopilot script. DEMO_INTERACTIVE=1 shows the headless portal as text in
# the terminal for you to walk instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/mobileplans
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stack=$work/stack

if [ -z "${DEMO_HEADLESS:-}" ] && [ -z "${DEMO_INTERACTIVE:-}" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
	echo "=== 1. Buy a plan and activate it in the desktop app: mobileplans ui --mock"
	echo "(See plans from operators → Contoso Cellular → buy in the portal window; quit the app to go on)"
	ui=(ui --mock --mock-dir "$stack")
	# DEMO_AUTOPILOT=1: the app walks the portal itself (you still pick
	# the operator and press its button).
	[ -z "${DEMO_AUTOPILOT:-}" ] || ui+=(--autopilot scripts/contoso-autopilot.txt)
	echo "\$ mobileplans ${ui[*]}"
	"$bin" "${ui[@]}"
	args=()
else
	echo "=== 1. Buy a plan and activate it: mobileplans activate --mock"
	args=(activate --mock --mock-dir "$stack")
fi
if [ ${#args[@]} -eq 0 ]; then
	:
elif [ -n "${DEMO_INTERACTIVE:-}" ]; then
	args+=(--browser headless)
else
	args+=(--operator contoso --autopilot scripts/contoso-autopilot.txt)
	exec </dev/null
fi
if [ ${#args[@]} -gt 0 ]; then
	echo "\$ mobileplans ${args[*]}"
	"$bin" "${args[@]}"
fi

echo
echo "=== 2. The same eUICC through the CLI (what a device maker scripts)"
common=(--sim "$stack/euicc.json" --test-pki "$stack/test-pki")
run() { echo; echo "\$ mobileplans $*"; "$bin" "${common[@]}" "$@"; }
run profile list
run notification list
run chip info
run modem info

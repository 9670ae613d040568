#!/usr/bin/env bash
# Terminal demo: eSIM management and a real SGP.22 profile download on the
# simulated modem (real pseudo-terminal, real serial driver) against the
# bundled SM-DP+ (real TLS, real ECDSA/ECDH/AES).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/mobileplans
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
state=$work/euicc.json
pki=$work/test-pki
common=(--sim "$state" --test-pki "$pki")
run() { echo; echo "\$ mobileplans $*"; "$bin" "${common[@]}" "$@"; }
echo "Simulated eUICC state: $state"
run modem info
run chip info
run profile list
second=$("$bin" "${common[@]}" profile list --state disabled --quiet | head -n1)
run profile enable "$second"
run profile nickname "$second" "Travel"
run profile list

echo; echo "--- the bundled SM-DP+ (ES9+/ES2+ over TLS with the test PKI)"
"$bin" --test-pki "$pki" --json mock smdp --listen 127.0.0.1:0 --db "$work/smdp.db" > "$work/smdp.json" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/smdp.json" ] && break; sleep 0.1; done
smdp=$(sed -n 's/.*"address":"\([^"]*\)".*/\1/p' "$work/smdp.json")
echo "SM-DP+ at $smdp"
echo; echo "\$ mobileplans mock order --smdp $smdp   (the operator orders a profile over ES2+)"
ac=$("$bin" --test-pki "$pki" --json mock order --smdp "$smdp" | sed -n 's/.*"activationCode":"\([^"]*\)".*/\1/p')
echo "activation code: $ac"
run --trust-ci "$pki/ci.pem" profile download -a "$ac" --enable
run profile list
run notification list
run modem info

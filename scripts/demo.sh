#!/usr/bin/env bash
# Terminal demo: the eSIM management journey on the simulated modem, over a
# real pseudo-terminal and the real serial driver.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/mobileplans
state=$(mktemp -d)/euicc.json
trap 'rm -rf "$(dirname "$state")"' EXIT
run() { echo; echo "\$ mobileplans $*"; "$bin" --sim "$state" "$@"; }
echo "Simulated eUICC state: $state"
run modem info
run chip info
run profile list
second=$("$bin" --sim "$state" profile list --state disabled --quiet | head -n1)
run profile enable "$second"
run profile nickname "$second" "Travel"
run profile list
run notification list
run notification remove --all
run notification list

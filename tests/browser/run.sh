#!/usr/bin/env bash
# The web console in headless Chromium: seeds a small demo month (the month before the current
# one in Asia/Jakarta), serves it with `malpro demo`, and runs console.test.mjs with node's test
# runner. Screenshots go to BUILD_DIR/browser-artifacts/; with MALPRO_UPDATE_SCREENSHOTS=1 also
# to docs/screenshots/ (the README's copies).
# Usage: run.sh MALPRO_BINARY BUILD_DIR SOURCE_DIR
set -euo pipefail
malpro="$1"
build_dir="$2"
source_dir="$3"
source "$source_dir/tests/cli/lib.sh"

browser_dir="$source_dir/tests/browser"
[ -x /usr/bin/chromium ] || fail "no /usr/bin/chromium: run scripts/setup.sh (Debian's chromium)"
[ -d "$browser_dir/node_modules/playwright-core" ] || fail "no playwright-core: run scripts/setup.sh (npm ci in tests/browser)"
[ -f "$source_dir/console/vendor/chart.umd.min.js" ] || fail "no console/vendor/chart.umd.min.js: run scripts/setup.sh (npm ci in console)"

jakarta_month="$(TZ=Asia/Jakarta date +%Y-%m)"
month="$(TZ=Asia/Jakarta date -d "${jakarta_month}-01 -1 day" +%Y-%m)"
start_malpro "$work/data" demo demo --seed 11 --asn 200 --umkm 12 --month "$month"
port="$(served_port demo)"
[ -n "$port" ] || fail "the demo did not say its port: $(cat "$work/demo.log")"
status="$(http_status "http://127.0.0.1:$port/")"
[ "$status" = 200 ] || fail "GET / answered $status: the server does not serve console/"

# The ledger as it stood at sequence 400, served read-only beside it (no lock is taken).
"$malpro" -c "$config" -d "$work/data" -p 0 audit replay --until 400 -o "$work/replay" --serve \
  > "$work/replay.log" 2> "$work/replay.err" &
replay_pid=$!
trap 'kill "$replay_pid" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 "$serve_start_tries_max"); do
  grep -q 'HTTP API on' "$work/replay.log" 2>/dev/null && break
  sleep 0.1
done
replay_port="$(served_port replay)"
[ -n "$replay_port" ] || fail "audit replay --serve did not start: $(tail -c 300 "$work/replay.err")"
grep -q 'malpro: console on ' "$work/replay.log" || fail "the replay serves no console: $(cat "$work/replay.log")"

artifacts="$build_dir/browser-artifacts"
rm -rf "$artifacts"
mkdir -p "$artifacts"
screenshots=""
[ "${MALPRO_UPDATE_SCREENSHOTS:-}" = 1 ] && screenshots="$source_dir/docs/screenshots"
cd "$browser_dir"
MALPRO_API="http://127.0.0.1:$port" MALPRO_REPLAY_API="http://127.0.0.1:$replay_port" MALPRO_MONTH="$month" MALPRO_ARTIFACTS="$artifacts" \
  MALPRO_SCREENSHOTS_DIR="$screenshots" \
  node --test --test-concurrency=1 --test-reporter=spec console.test.mjs

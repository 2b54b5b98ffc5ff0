#!/usr/bin/env bash
# The console's speed on the demo month: the dashboard's first figures (cold loads) and its
# responsiveness under writes, in Debian's headless Chromium driven by bench/console_load.mjs
# (playwright-core from tests/browser/node_modules; scripts/setup.sh installs it).
#
# Seeds the full demo month once (`malpro demo` with its defaults, as `make run` does: about
# 66,000 commands, ~2 minutes) into BUILD_DIR/console-bench/seed-MONTH and keeps it; each run
# serves a fresh copy of it, so runs start from the same ledger. Bounded: a fixed number of
# writes per phase, and the whole node run is stopped after CONSOLE_BENCH_TIMEOUT seconds.
#
# Usage: bash bench/console_load.sh [BUILD_DIR]        (default build)
# Environment: CONSOLE_BENCH_LOADS (5 cold loads), CONSOLE_BENCH_RATE (100 writes/s),
#   CONSOLE_BENCH_SECONDS (10 s of writes per phase), CONSOLE_BENCH_TIMEOUT (300 s),
#   CONSOLE_BENCH_JSON (a file for the figures as JSON), CONFIG (config/malpro.toml).
set -euo pipefail
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$(cd "${1:-$source_dir/build}" && pwd)"
malpro="$build_dir/malpro"
config="${CONFIG:-$source_dir/config/malpro.toml}"
[[ "$config" = /* ]] || config="$source_dir/$config"

fail() { echo "console_load: $*" >&2; exit 1; }
[ -x "$malpro" ] || fail "no $malpro: build it (mbuild build malpro, or make build)"
[ -x /usr/bin/chromium ] || fail "no /usr/bin/chromium: run scripts/setup.sh (Debian's chromium)"
[ -d "$source_dir/tests/browser/node_modules/playwright-core" ] ||
  fail "no playwright-core: run scripts/setup.sh (npm ci in tests/browser)"
[ -f "$source_dir/console/vendor/chart.umd.min.js" ] || fail "no console/vendor: run scripts/setup.sh"

jakarta_month="$(TZ=Asia/Jakarta date +%Y-%m)"
month="$(TZ=Asia/Jakarta date -d "${jakarta_month}-01 -1 day" +%Y-%m)"
bench_dir="$build_dir/console-bench"
seed="$bench_dir/seed-$month"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Starts `malpro demo` on DATA, its output in $work/NAME.log; returns once it serves HTTP.
serve_demo() {  # data name
  "$malpro" -c "$config" -d "$1" -p 0 demo --month "$month" > "$work/$2.log" 2> "$work/$2.err" &
  server_pid=$!
  for _ in $(seq 1 3000); do  # 0.1 s apart: seeding a fresh month takes minutes
    grep -q 'HTTP API on' "$work/$2.log" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q 'HTTP API on' "$work/$2.log" 2>/dev/null || fail "malpro demo on $1 did not serve: $(tail -c 300 "$work/$2.err")"
}
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}

if [ ! -f "$seed/.seeded" ]; then
  rm -rf "$seed"
  mkdir -p "$bench_dir"
  echo "console_load: seeding the demo month $month into $seed (once)"
  started=$(date +%s)
  serve_demo "$seed" seed
  stop_server
  echo "console_load: seeded in $(( $(date +%s) - started )) s: $(head -1 "$work/seed.log")"
  touch "$seed/.seeded"
fi

cp -a "$seed" "$work/data"
serve_demo "$work/data" serve
port="$(sed -n 's|.*HTTP API on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/serve.log" | head -1)"
[ -n "$port" ] || fail "the demo did not say its port: $(cat "$work/serve.log")"
echo "console_load: $("$malpro" version) serving a copy of $seed on port $port"

MALPRO_API="http://127.0.0.1:$port" MALPRO_MONTH="$month" \
  timeout --signal=TERM "${CONSOLE_BENCH_TIMEOUT:-300}" node "$source_dir/bench/console_load.mjs"

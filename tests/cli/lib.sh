# shellcheck shell=bash disable=SC2034,SC2154  # sets variables for, and reads those of, its caller
# Shared by the shell tests that drive the real `malpro` program (tests/cli/*.sh and
# tests/kafka/kcat_test.sh). A test sets `malpro` (the binary) and `source_dir` (the source
# tree), then sources this file relative to its own path:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Sourcing it sets `config` (the shipped config/malpro.toml) and `work` (a fresh temp dir), and
# installs an EXIT trap that stops the server started by start_malpro and removes `work`.

# How long a started program may take to say it serves HTTP: this many tries, 0.1 s apart.
serve_start_tries_max=400

fail() { echo "FAIL: $*" >&2; exit 1; }

config="$source_dir/config/malpro.toml"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Makes `config` a copy of the shipped configuration folder in $work/config (its paths are
# relative to it), for a test that changes settings with sed.
use_config_copy() {
  mkdir "$work/config"
  cp -r "$source_dir/config/." "$work/config/"
  config="$work/config/malpro.toml"
}

# Starts `malpro -c $config -d DATA -p 0 ARGS...` in the background, its stdout in
# $work/NAME.log and stderr in $work/NAME.err; sets server_pid and returns once it serves HTTP.
start_malpro() {  # data name args...
  local data="$1" name="$2"
  shift 2
  "$malpro" -c "$config" -d "$data" -p 0 "$@" > "$work/$name.log" 2> "$work/$name.err" &
  server_pid=$!
  for _ in $(seq 1 "$serve_start_tries_max"); do
    grep -q 'HTTP API on' "$work/$name.log" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || break  # it exited: one last look, below
    sleep 0.1
  done
  grep -q 'HTTP API on' "$work/$name.log" 2>/dev/null && return 0
  fail "'malpro $*' on $data did not start serving: $(tail -c 300 "$work/$name.err")"
}

# Stops the server started by start_malpro (SIGTERM) and waits for it.
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}

# Prints the loopback port the server that logs to $work/NAME.log serves HTTP on.
served_port() {  # name
  sed -n 's|.*HTTP API on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/$1.log" | head -1
}

# `malpro serve` on a new data directory $work/data (output in $work/serve.log and .err); sets
# server_pid, port and api (its base URL).
start_serve() {
  start_malpro "$work/data" serve serve
  port="$(served_port serve)"
  [ -n "$port" ] || fail "serve did not say its port: $(cat "$work/serve.log")"
  api="http://127.0.0.1:$port"
}

# Seeds the month 2026-10 with `malpro demo` into $work/NAME (output in $work/NAME.log and
# .err), waits until it serves, and stops it.
seed_demo() {  # name seed asn umkm
  start_malpro "$work/$1" "$1" demo --seed "$2" --asn "$3" --umkm "$4" --month 2026-10
  stop_server
}

# Prints the head hash of the verified chain in DATA (nothing when it does not verify).
head_hash() {  # data
  "$malpro" -d "$1" audit verify 2>/dev/null | sed -n 's/.*head hash \([0-9a-f]*\).*/\1/p'
}

# Prints the business day with the most payment.succeeded events in the ledger in DATA.
busiest_payment_day() {  # data
  "$malpro" -d "$1" audit export 2>/dev/null | python3 -c '
import collections, json, sys
days = collections.Counter()
for line in sys.stdin:
    event = json.loads(line)
    if event["type"] == "payment.succeeded":
        days[json.loads(event["payload"])["business_date"]] += 1
print(days.most_common(1)[0][0])' || fail "the demo month has no cashless payment"
}

# Prints the HTTP status of a curl request (ARGS are curl's); the body is dropped.
http_status() {  # curl args...
  curl -s -o /dev/null -w '%{http_code}' "$@"
}

# Registers the ASN Siti Rahayu (NIP 198507122010011003) through the API at API as an admin.
register_test_asn() {  # api
  local status
  status="$(http_status -H "Authorization: Bearer dev-admin" -X POST "$1/v1/asn" \
    -d '{"nip":"198507122010011003","name":"Siti Rahayu","agency":"Diskominfo","rank_class":"III/a","kelurahan":"Kauman"}')"
  [ "$status" = 201 ] || fail "register ASN answered $status"
}

#!/usr/bin/env bash
# The load generator against the real program: `malpro serve` on a free loopback port,
# `http_load --setup` places a bounded number of orders, and every one is in the log; then a
# bounded run of cached reads; a non-loopback target is refused before anything is sent.
# Usage: http_load_test.sh MALPRO_BINARY HTTP_LOAD_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
load="$2"
source_dir="$3"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_serve

head_sequence() {
  curl -fsS -H 'Authorization: Bearer dev-auditor' "$api/v1/chain/head" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["sequence"])'
}

# Setup registers the merchant, its product and 20 buyers; then exactly 300 orders.
"$load" --port "$port" --setup --buyers 20 --connections 8 --threads 2 --requests 300 \
  --duration-s 60 --scenario place-order > "$work/orders.txt" ||
  fail "place-order run failed: $(cat "$work/orders.txt")"
grep -q '^status 201: 300$' "$work/orders.txt" || fail "expected 300 orders: $(cat "$work/orders.txt")"
grep -q 'requests=300 ' "$work/orders.txt" || fail "request count: $(cat "$work/orders.txt")"
# register umkm + verify + product + 20 ASN + 300 orders: each a single event.
[ "$(head_sequence)" -ge 323 ] || fail "the log holds $(head_sequence) events, expected at least 323"

# A second setup finds everything there (409s are accepted), and reads are all 200.
"$load" --port "$port" --setup --buyers 20 --connections 4 --requests 200 --duration-s 60 \
  --scenario get --path /v1/catalog/load-umkm > "$work/reads.txt" ||
  fail "read run failed: $(cat "$work/reads.txt")"
grep -q '^status 200: 200$' "$work/reads.txt" || fail "expected 200 reads: $(cat "$work/reads.txt")"

# The work lists (orders of the setup's merchant, pending payments) answer 200 to the operator.
"$load" --port "$port" --token dev-operator --connections 4 --requests 90 --duration-s 60 \
  --scenario work-lists > "$work/lists.txt" ||
  fail "work-lists run failed: $(cat "$work/lists.txt")"
grep -q '^status 200: 90$' "$work/lists.txt" || fail "expected 90 list reads: $(cat "$work/lists.txt")"

# A refused request makes the run fail: the exit status says the figures are not all 2xx.
if "$load" --port "$port" --token wrong --connections 2 --requests 10 --duration-s 10 \
  --scenario get --path /v1/stats > "$work/refused.txt"; then
  fail "a run of 401s exited 0"
fi
grep -q '^status 401: 10$' "$work/refused.txt" || fail "expected 10 refusals: $(cat "$work/refused.txt")"

# Only loopback targets.
if "$load" --host 10.1.2.3 --port "$port" --requests 1 2> "$work/host.err"; then
  fail "a non-loopback host was accepted"
fi
grep -q 'only loopback' "$work/host.err" || fail "host refusal said: $(cat "$work/host.err")"
echo "http_load: orders, reads, refusals and the loopback rule hold"

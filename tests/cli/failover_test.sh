#!/usr/bin/env bash
# Failover on one machine, as docs/replication.md tells it: one embedded broker (`malpro
# broker`), a primary in synchronous mode and two replicas. Orders go through the primary and
# both replicas' read-model digests equal its own. The primary is killed (-9) while orders come
# in; replica A is stopped, promoted (`malpro promote`) and served as the primary; every order
# the old primary acknowledged is there, and writing goes on. Replica B follows the new
# primary to the same digests; the chain verifies end to end from the topic and on each log.
# The old primary, started again, is fenced before it serves: it refuses its very first write
# and says why.
# Usage: failover_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pids=()
# Waits up to 10 s for PID to end, then kills it.
await_end() {  # pid
  for _ in $(seq 1 100); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
}
# Stops every program started here (SIGTERM) and waits for each, the broker last: a server
# flushes its relay to it on the way out.
stop_all() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 1; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for ((i = ${#pids[@]} - 1; i >= 1; i--)); do await_end "${pids[i]}"; done
  if [ "${#pids[@]}" -gt 0 ]; then
    kill -TERM "${pids[0]}" 2>/dev/null || true
    await_end "${pids[0]}"
  fi
}
trap 'stop_all; cleanup' EXIT

use_config_copy
seed_demo seed 5 40 6

"$malpro" -c "$config" broker > "$work/broker.log" 2> "$work/broker.err" &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q 'embedded Kafka broker at' "$work/broker.log" 2>/dev/null && break
  sleep 0.1
done
broker="$(sed -n 's/.*embedded Kafka broker at \(127.0.0.1:[0-9]*\).*/\1/p' "$work/broker.log")"
[ -n "$broker" ] || fail "the broker did not say where it is: $(cat "$work/broker.log" "$work/broker.err")"
sed -i -e "/^\[kafka\]/,/^\[/ s/^brokers = \"\"$/brokers = \"$broker\"/" \
  -e '/^\[kafka\]/,/^\[/ s/^synchronous = false$/synchronous = true/' "$config"
grep -q "^brokers = \"$broker\"" "$config" && grep -q '^synchronous = true' "$config" ||
  fail "the configuration was not set to the broker in synchronous mode"

# Starts `malpro ARGS...` on DATA in the background (output in $work/NAME.log and .err), waits
# until it serves HTTP, and prints its base URL; its pid goes to $work/NAME.pid.
start() {  # data name args...
  local data="$1" name="$2"
  shift 2
  "$malpro" -c "$config" -d "$data" -p 0 "$@" > "$work/$name.log" 2> "$work/$name.err" &
  echo $! > "$work/$name.pid"
  for _ in $(seq 1 "$serve_start_tries_max"); do
    grep -q 'HTTP API on' "$work/$name.log" 2>/dev/null && break
    kill -0 "$(cat "$work/$name.pid")" 2>/dev/null || fail "'malpro $*' on $data exited: $(cat "$work/$name.err")"
    sleep 0.1
  done
  echo "http://127.0.0.1:$(served_port "$name")"
}
pid_of() { cat "$work/$1.pid"; }

cp -r "$work/seed" "$work/primary"
primary="$(start "$work/primary" primary serve)"
pids+=("$(pid_of primary)")
replica_a="$(start "$work/a" a replica --kafka "$broker" --primary "$primary")"
pids+=("$(pid_of a)")
replica_b="$(start "$work/b" b replica --kafka "$broker" --primary "$primary")"
pids+=("$(pid_of b)")

auditor=(-H "Authorization: Bearer dev-auditor")
chain_head() { curl -fsS "${auditor[@]}" "$1/v1/chain/head"; }
digests() {
  curl -fsS "${auditor[@]}" "$1/v1/read-models/digests" |
    python3 -c 'import json,sys; print(sorted((m["name"],m["rows"],m["sha256"]) for m in json.load(sys.stdin)["read_models"]))'
}
await_same() {  # primary replica
  for _ in $(seq 1 300); do
    if [ "$(chain_head "$1")" = "$(chain_head "$2")" ] && [ "$(digests "$1")" = "$(digests "$2")" ]; then
      return 0
    fi
    sleep 0.1
  done
  fail "$2 did not reach $1: $(chain_head "$1") vs $(chain_head "$2"); $(curl -s "$2/healthz")"
}
# Places one cash-on-delivery order through API; prints its id when it was acknowledged (201), else nothing.
place_order() {  # api
  curl -s --max-time 10 -X POST "$1/v1/orders" -H 'Authorization: Bearer dev-asn' \
    -d '{"buyer_nip":"198507122010011003","umkm_id":"warung-bu-sri","lines":[{"product_id":"beras-5kg","quantity":1}],"payment_method":"COD"}' \
    -w '\n%{http_code}\n' | python3 -c '
import json, sys
body, status = sys.stdin.read().rsplit("\n", 2)[:2]
if status == "201": print(json.loads(body)["order_id"])' || true
}

for _ in $(seq 1 10); do
  [ -n "$(place_order "$primary")" ] || fail "an order on the synchronous primary was not acknowledged"
done
await_same "$primary" "$replica_a"
await_same "$primary" "$replica_b"
health="$(curl -fsS "$primary/healthz")"
python3 - "$health" "$(chain_head "$primary")" <<'EOF' || fail "the primary's relay: $health"
import json, sys
relay, head = json.loads(sys.argv[1])["details"]["relay"], json.loads(sys.argv[2])
assert relay["synchronous"] is True and relay["epoch"] == 1, relay
assert relay["confirmed_sequence"] == head["sequence"], (relay, head)
EOF

# Orders keep coming while the primary dies: each acknowledged one is noted.
: > "$work/acknowledged"
(
  for _ in $(seq 1 400); do
    id="$(place_order "$primary")"
    if [ -n "$id" ]; then
      echo "$id" >> "$work/acknowledged"
    elif ! kill -0 "$(pid_of primary)" 2>/dev/null; then
      break  # killed: nothing more is answered
    fi
  done
) &
writer=$!
for _ in $(seq 1 100); do
  [ "$(wc -l < "$work/acknowledged")" -ge 20 ] && break
  sleep 0.05
done
kill -9 "$(pid_of primary)"
wait "$writer" || true
acknowledged="$(wc -l < "$work/acknowledged")"
[ "$acknowledged" -ge 20 ] || fail "only $acknowledged orders were acknowledged before the kill"

# Replica A: stopped, promoted, served as the primary.
kill -TERM "$(pid_of a)"
await_end "$(pid_of a)"
"$malpro" -c "$config" -d "$work/a" serve > "$work/refused.log" 2>&1 &&
  fail "serve took a replica's directory: $(cat "$work/refused.log")"
grep -q 'log_is_replica' "$work/refused.log" || fail "serving a replica's directory: $(cat "$work/refused.log")"
timeout 60 "$malpro" -c "$config" -d "$work/a" -p 0 demo > "$work/refused-demo.log" 2>&1 &&
  fail "demo took a replica's directory: $(cat "$work/refused-demo.log")"
grep -q 'log_is_replica' "$work/refused-demo.log" || fail "demo on a replica's directory: $(cat "$work/refused-demo.log")"
"$malpro" -c "$config" -d "$work/a" promote --kafka "$broker" > "$work/promote.log" 2>&1 ||
  fail "promote failed: $(cat "$work/promote.log")"
grep -q '^malpro: promoted: epoch 2 ' "$work/promote.log" || fail "promote said: $(cat "$work/promote.log")"
new_primary="$(start "$work/a" new serve)"
pids+=("$(pid_of new)")
lost=0
while read -r id; do
  [ "$(http_status "${auditor[@]}" "$new_primary/v1/orders/$id")" = 200 ] || lost=$((lost + 1))
done < "$work/acknowledged"
[ "$lost" = 0 ] || fail "$lost of $acknowledged acknowledged orders are missing after the promotion"
for _ in $(seq 1 10); do
  [ -n "$(place_order "$new_primary")" ] || fail "an order on the promoted primary was not acknowledged"
done
grep -q '"epoch":2' <<<"$(curl -fsS "$new_primary/healthz")" || fail "the new primary's epoch: $(curl -s "$new_primary/healthz")"
await_same "$new_primary" "$replica_b"

# The old primary, started again, is fenced before it serves: its very first write is
# refused, and it says why.
zombie="$(start "$work/primary" zombie serve)"
pids+=("$(pid_of zombie)")
refused="$(curl -s -i -X POST "$zombie/v1/orders" -H 'Authorization: Bearer dev-asn' \
  -d '{"buyer_nip":"198507122010011003","umkm_id":"warung-bu-sri","lines":[{"product_id":"beras-5kg","quantity":1}],"payment_method":"COD"}')"
grep -q '^HTTP/1.1 503' <<<"$refused" && grep -q '"code":"kafka_relay_fenced"' <<<"$refused" ||
  fail "the fenced primary took a write: $refused"
health="$(curl -s "$zombie/healthz")"
grep -q '"state":"fenced"' <<<"$health" || fail "the old primary is not fenced: $health"
grep -q '^{"status":"failing"' <<<"$health" || fail "a fenced primary's health says: $health"

# The chain verifies from the topic end to end, to the new primary's head, and on each log.
head="$(chain_head "$new_primary" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hash"])')"
"$malpro" -c "$config" audit verify --kafka "$broker" > "$work/verify-kafka.out" 2>&1 ||
  fail "audit verify --kafka: $(cat "$work/verify-kafka.out")"
grep -q "$head" "$work/verify-kafka.out" || fail "the topic's chain does not end at the new primary's head $head: $(cat "$work/verify-kafka.out")"
stop_all
pids=()
[ "$(head_hash "$work/a")" = "$head" ] || fail "the promoted log does not verify to $head"
[ "$(head_hash "$work/b")" = "$head" ] || fail "replica B does not verify to $head"
echo "failover: $acknowledged acknowledged orders kept through kill -9 and promotion; B followed; the old primary is fenced"

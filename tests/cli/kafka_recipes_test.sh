#!/usr/bin/env bash
# The documented Kafka recipes work on the demo month, as an operator runs them after `make run`
# (`malpro --config config/malpro.toml demo`, here on a new data directory and a free port):
# once the demo has seeded its month and the relay has published all of it to the embedded
# broker, the chain check from Kafka of README.md and of docs/kafka-records.md (section 5),
# taken from those files and run as written with only the broker's address put in, verifies
# every event up to the log's head; and `malpro audit verify --kafka ADDR`, as the demo's hints
# print it, verifies the same count and head hash.
# Usage: kafka_recipes_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v kcat > /dev/null || fail "kcat is not installed (scripts/setup.sh installs it)"
command -v jq > /dev/null || fail "jq is not installed"

# Seeding the month comes before serving (about a minute on two loaded cores): allow it 240 s
# (0.1 s a try).
serve_start_tries_max=2400
# The demo takes SIGTERM only once it serves: a test that fails while it seeds kills it.
kill_demo() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2> /dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$server_pid" 2> /dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$server_pid" 2> /dev/null || true
}
trap 'kill_demo; cleanup' EXIT
# How long the relay may take to publish the month after the API serves: tries, 0.1 s apart.
relay_tries_max=600
# The documented size of the demo month (docs/kafka-records.md: "~66,500 events"), and the
# embedded broker's retention (all of it must still be in the topic).
month_events_min=60000
retention_events=100000

start_malpro "$work/data" demo demo
grep -q '^malpro demo: seeded [0-9-]* in Kota Malang: ' "$work/demo.log" ||
  fail "the demo did not seed a month: $(head -c 600 "$work/demo.log")"
api="http://127.0.0.1:$(served_port demo)"
broker="$(sed -n 's|^malpro: kafka: embedded broker at \(127.0.0.1:[0-9]*\) (try: kcat -b \1 -C -t malpro.events); in memory only.*|\1|p' \
  "$work/demo.log")"
[ -n "$broker" ] || fail "the demo did not print the embedded broker as documented: $(cat "$work/demo.log")"

# The head of the log: the seeding is done (the demo serves only after it).
head="$(curl -fsS -H 'Authorization: Bearer dev-auditor' "$api/v1/chain/head")" || fail "GET /v1/chain/head failed"
head_sequence="$(jq -r .sequence <<< "$head")"
head_hash="$(jq -r .hash <<< "$head")"
[[ "$head_hash" =~ ^[0-9a-f]{64}$ ]] || fail "chain head: $head"
((head_sequence >= month_events_min && head_sequence <= retention_events)) ||
  fail "the demo month holds $head_sequence events, not the documented ~66,500"

# Waits (bounded) until /healthz says the relay has the head acknowledged: lag 0.
relay=""
for _ in $(seq 1 "$relay_tries_max"); do
  health="$(curl -sS "$api/healthz" || true)"
  relay="$(jq -r '.details.relay | "\(.state) \(.lag) \(.published_sequence)"' <<< "$health" 2> /dev/null || true)"
  [ "$relay" = "publishing 0 $head_sequence" ] && break
  kill -0 "$server_pid" 2> /dev/null || fail "the demo exited: $(tail -c 300 "$work/demo.err")"
  sleep 0.1
done
[ "$relay" = "publishing 0 $head_sequence" ] ||
  fail "the relay did not publish the month up to head $head_sequence: $health"

# Prints the chain check from Kafka as FILE documents it: its lines from the kcat that reads the
# whole events topic to the verify_export.py that checks the file, as written, with the
# placeholder address ADDRESS replaced by the demo's broker.
documented_check() {  # file address
  awk '/^kcat -b [^ ]* -C -t malpro\.events -e -q / { on = 1 } on { print } on && /verify_export\.py/ { exit }' \
    "$source_dir/$1" | sed "s|$2|$broker|g"
}
# Runs the recipe of FILE in a new directory $work/NAME (the recipes name scripts/ relative to
# the source tree, so it holds a link to it); its output in $work/NAME.txt.
run_documented_check() {  # file address name
  local recipe
  recipe="$(documented_check "$1" "$2")"
  grep -q "kcat -b $broker .*verify_export.py events.jsonl" <<< "$(tr -d '\\\n' <<< "$recipe")" ||
    fail "$1 no longer documents the chain check from Kafka as this test expects: $recipe"
  mkdir "$work/$3"
  ln -s "$source_dir/scripts" "$work/$3/scripts"
  (cd "$work/$3" && timeout 60 bash -c "set -eo pipefail; $recipe") > "$work/$3.txt" 2>&1 ||
    fail "the chain check of $1 failed: $recipe
$(tail -c 600 "$work/$3.txt")"
  [ "$(wc -l < "$work/$3/events.jsonl")" = "$head_sequence" ] ||
    fail "$1: events.jsonl holds $(wc -l < "$work/$3/events.jsonl") events, not $head_sequence"
  grep -qx "OK $head_sequence $head_sequence $head_hash" "$work/$3.txt" ||
    fail "$1: verify_export.py did not verify $head_sequence events up to $head_hash: $(tail -c 600 "$work/$3.txt")"
}

# (1) The chain from the topic, checked by the reference script: README.md, "Watching the live
# stream with Kafka", and docs/kafka-records.md, section 5.
run_documented_check README.md 127.0.0.1:41233 readme
run_documented_check docs/kafka-records.md 127.0.0.1:PORT records

# (2) malpro's own check from the topic, without the data directory, as the demo's hints say
# (docs/kafka-records.md, section 5: `OK: N events verified from Kafka topic malpro.events,
# head sequence N, head hash H`).
grep -q "^  ./build/malpro audit verify --kafka $broker$" "$work/demo.log" ||
  fail "the demo's hints do not show audit verify --kafka: $(cat "$work/demo.log")"
status=0
(cd "$work/readme" && timeout 90 "$malpro" audit verify --kafka "$broker") \
  > "$work/kafka_verify.txt" 2> "$work/kafka_verify.err" || status=$?
[ "$status" = 0 ] || fail "audit verify --kafka exited $status: $(cat "$work/kafka_verify.txt" "$work/kafka_verify.err")"
grep -qx "OK: $head_sequence events verified from Kafka topic malpro.events, head sequence $head_sequence, head hash $head_hash" \
  "$work/kafka_verify.txt" || fail "audit verify --kafka said: $(cat "$work/kafka_verify.txt")"

# The log did not move meanwhile, so all three checks were of the same month; the log's own
# verification ends on the same head.
[ "$(curl -fsS -H 'Authorization: Bearer dev-auditor' "$api/v1/chain/head")" = "$head" ] ||
  fail "the log's head moved during the checks: $head"
[ "$(head_hash "$work/data")" = "$head_hash" ] || fail "audit verify of the data directory does not end on $head_hash"
stop_server
echo "OK: the documented Kafka recipes verify the demo month ($head_sequence events, head $head_hash)"

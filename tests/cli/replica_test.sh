#!/usr/bin/env bash
# `malpro replica` keeps a copy of a serving primary's log from its events topic (the embedded
# broker): it catches up, follows new writes, serves the same chain head and read-model
# digests, refuses writes with 421 naming the primary, reports its lag in /healthz and
# /metrics, resumes from its own head after a restart, and ends with an export identical to
# the primary's. A replica whose directory holds another log stops applying (failed, 503).
# Usage: replica_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

replica_pid=""
stop_replica() {
  [ -n "$replica_pid" ] || return 0
  kill -TERM "$replica_pid" 2>/dev/null || true
  wait "$replica_pid" || true
  replica_pid=""
}
trap 'stop_replica; cleanup' EXIT

seed_demo data 5 40 6
start_malpro "$work/data" primary serve
primary="http://127.0.0.1:$(served_port primary)"
broker="$(sed -n 's/.*embedded broker at \(127.0.0.1:[0-9]*\).*/\1/p' "$work/primary.log")"
[ -n "$broker" ] || fail "the primary did not say where its broker is: $(cat "$work/primary.log")"

# Starts a replica of the primary on DATA (output in $work/NAME.log and .err); sets replica_pid
# and replica (its base URL).
start_replica() {  # data name
  "$malpro" -c "$config" -d "$1" -p 0 replica --kafka "$broker" --primary "$primary" \
    > "$work/$2.log" 2> "$work/$2.err" &
  replica_pid=$!
  for _ in $(seq 1 "$serve_start_tries_max"); do
    grep -q 'HTTP API on' "$work/$2.log" 2>/dev/null && break
    kill -0 "$replica_pid" 2>/dev/null || fail "the replica exited: $(cat "$work/$2.err")"
    sleep 0.1
  done
  replica="http://127.0.0.1:$(served_port "$2")"
}

auditor=(-H "Authorization: Bearer dev-auditor")
chain_head() { curl -fsS "${auditor[@]}" "$1/v1/chain/head"; }
# The digests without each read model's commit position, which depends on when it committed.
digests() {
  curl -fsS "${auditor[@]}" "$1/v1/read-models/digests" |
    python3 -c 'import json,sys; print(sorted((m["name"],m["rows"],m["sha256"]) for m in json.load(sys.stdin)["read_models"]))'
}
# Waits until the replica's chain head and read models equal the primary's.
await_same() {
  for _ in $(seq 1 300); do
    if [ "$(chain_head "$primary")" = "$(chain_head "$replica")" ] &&
      [ "$(digests "$primary")" = "$(digests "$replica")" ]; then
      return 0
    fi
    sleep 0.1
  done
  fail "the replica did not reach the primary: $(chain_head "$primary") vs $(chain_head "$replica"); $(curl -s "$replica/healthz")"
}

start_replica "$work/replica" replica
grep -q "^malpro: replica of malpro.events at $broker from sequence 1; writes go to $primary" \
  "$work/replica.log" || fail "the replica's start line: $(cat "$work/replica.log")"
await_same
health="$(curl -fsS "$replica/healthz")"
python3 - "$health" "$(chain_head "$primary")" <<'EOF' || fail "replica health: $health"
import json, sys
health, head = json.loads(sys.argv[1]), json.loads(sys.argv[2])
replica = health["details"]["replica"]
assert health["status"] == "ok" and health["details"]["role"] == "replica", health
assert replica["state"] == "following", replica
assert replica["applied_sequence"] == head["sequence"] == replica["topic_sequence"], replica
assert replica["lag"] == 0 and replica["events_applied"] == head["sequence"], replica
EOF
grep -q "^malpro: signed checkpoints on malpro.checkpoints checked against this replica's tree with key " \
  "$work/replica.log" || fail "the replica does not say it checks checkpoints: $(cat "$work/replica.log")"
# The primary signs a checkpoint at start; the replica checks it against its own tree and keeps it.
for _ in $(seq 1 100); do
  grep -q '"checkpoints_verified":[1-9]' <<<"$(curl -fsS "$replica/healthz")" && break
  sleep 0.1
done
grep -q '"checkpoints_verified":[1-9]' <<<"$(curl -fsS "$replica/healthz")" ||
  fail "no signed checkpoint checked: $(curl -s "$replica/healthz")"

# Live feeds are served too: the events feed of the replica, from the start, carries its events.
feed="$(curl -sN --max-time 1 "${auditor[@]}" "$replica/v1/subscribe/events?after=0" || true)"
grep -q '^: subscribed' <<<"$feed" || fail "no live feed on the replica: $(head -c 300 <<<"$feed")"
grep -q '"sequence":1,' <<<"$feed" || fail "the replica's feed does not carry its events: $(head -c 300 <<<"$feed")"

# Writes go to the primary; the replica refuses them, names the primary, and writes nothing.
before="$(chain_head "$replica")"
refused="$(curl -s -i -X POST -H 'Authorization: Bearer dev-admin' "$replica/v1/asn" \
  -d '{"nip":"199001152015031002","name":"Dewi Lestari","agency":"Diskominfo","rank_class":"III/b","kelurahan":"Kauman"}')"
grep -q '^HTTP/1.1 421' <<<"$refused" || fail "a write to the replica: $refused"
grep -qi "^X-Malpro-Primary: $primary" <<<"$refused" || fail "the refusal names no primary: $refused"
grep -q '"code":"replica_read_only"' <<<"$refused" || fail "the refusal's code: $refused"
[ "$(chain_head "$replica")" = "$before" ] || fail "the refused write changed the replica's log"

# A write on the primary reaches the replica: its log, its read models, its ledger reads.
[ "$(http_status -H 'Authorization: Bearer dev-admin' -X POST "$primary/v1/asn" \
  -d '{"nip":"199001152015031002","name":"Dewi Lestari","agency":"Diskominfo","rank_class":"III/b","kelurahan":"Kauman"}')" = 201 ] ||
  fail "registering an ASN on the primary failed"
await_same
[ "$(http_status "${auditor[@]}" "$replica/v1/asn/199001152015031002/spend")" = 200 ] ||
  fail "the replica does not show the ASN registered on the primary"
metrics="$(curl -fsS "$replica/metrics")"
for line in 'malpro_replica_lag_events 0' 'malpro_replica_state{state="following"} 1' \
  'malpro_replica_up 1' "malpro_replica_applied_sequence $(chain_head "$primary" |
    sed 's/.*"sequence":\([0-9]*\).*/\1/')"; do
  grep -qF "$line" <<<"$metrics" || fail "the replica's metrics lack '$line'"
done

# Stopped, it misses writes; started again it goes on from its own head.
stop_replica
head_then="$(chain_head "$primary" | sed 's/.*"sequence":\([0-9]*\).*/\1/')"
for i in 1 2 3; do
  [ "$(http_status -H 'Authorization: Bearer dev-admin' -X POST "$primary/v1/umkm" \
    -d "{\"umkm_id\":\"warung-replica-$i\",\"name\":\"Warung Replica $i\",\"category\":\"sembako\",\"kecamatan\":\"Klojen\",\"kelurahan\":\"Kauman\",\"sponsor\":\"Diskopindag\",\"settlement_account\":\"0012345678\",\"qris_criteria\":\"UMI\"}")" = 201 ] ||
    fail "registering a UMKM on the primary failed"
done
start_replica "$work/replica" replica2
grep -q "from sequence $((head_then + 1));" "$work/replica2.log" ||
  fail "the restarted replica did not go on from its head: $(cat "$work/replica2.log")"
await_same

# The two logs hold the same events, byte for byte as exported, and the replica's verifies.
stop_replica
stop_server
"$malpro" -d "$work/data" audit export -o "$work/primary.jsonl" 2>/dev/null
"$malpro" -d "$work/replica" audit export -o "$work/replica.jsonl" 2>/dev/null ||
  fail "the replica's log does not verify"
cmp -s "$work/primary.jsonl" "$work/replica.jsonl" || fail "the exports differ"
[ "$(head_hash "$work/replica")" = "$(head_hash "$work/data")" ] || fail "the head hashes differ"
# audit verify on the replica checks the checkpoints it kept against its tree and the key.
"$malpro" -c "$config" -d "$work/replica" audit verify > "$work/verify.out" 2>&1 ||
  fail "audit verify of the replica: $(cat "$work/verify.out")"
grep -qi 'checkpoint' "$work/verify.out" || fail "audit verify of the replica says nothing of checkpoints: $(cat "$work/verify.out")"

# A replica whose directory holds another log stops applying, keeps serving, and says why.
seed_demo other 6 20 3
start_malpro "$work/data" primary2 serve
primary="http://127.0.0.1:$(served_port primary2)"
broker="$(sed -n 's/.*embedded broker at \(127.0.0.1:[0-9]*\).*/\1/p' "$work/primary2.log")"
start_replica "$work/other" other
for _ in $(seq 1 100); do
  [ "$(http_status "$replica/healthz")" = 503 ] && break
  sleep 0.1
done
health="$(curl -s "$replica/healthz")"
grep -q '"state":"failed"' <<<"$health" || fail "another log's topic did not stop the replica: $health"
grep -q '^{"status":"failing"' <<<"$health" || fail "a failed replica's health says: $health"
grep -q 'replica_chain_broken\|does not follow this log' <<<"$health" || fail "the reason: $health"
[ "$(http_status "${auditor[@]}" "$replica/v1/chain/head")" = 200 ] || fail "the failed replica stopped serving"
echo "replica: caught up, followed, refused writes, resumed, and matched the primary byte for byte"

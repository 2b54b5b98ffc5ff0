#!/usr/bin/env bash
# Failover on one machine, as docs/replication.md tells it: one embedded broker (`malpro
# broker`), a primary in synchronous mode and two replicas. Orders go through the primary and
# both replicas' read-model digests equal its own. The primary is killed (-9) while orders come
# in; replica A is stopped, promoted (`malpro promote`) and served as the primary; every order
# the old primary acknowledged is there, and writing goes on. Replica B follows the new
# primary to the same digests; the chain verifies end to end from the topic and on each log.
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

#!/usr/bin/env bash
# The real kcat against the embedded broker of `malpro serve`: the address printed at start
# works, the topics are listed, and the records look as docs/kafka-records.md says.
# Usage: kcat_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"
command -v kcat >/dev/null || fail "kcat is not installed"

start_serve
broker="$(sed -n 's|.*kafka: embedded broker at \(127.0.0.1:[0-9]*\) (try: kcat -b \1 -C -t malpro.events).*|\1|p' "$work/serve.log")"
[ -n "$broker" ] || fail "serve did not print the embedded broker as documented: $(cat "$work/serve.log")"

register_test_asn "$api"
head="$(curl -s -H "Authorization: Bearer dev-auditor" "$api/v1/chain/head")"
head_sequence="$(echo "$head" | jq -r .sequence)"
head_hash="$(echo "$head" | jq -r .hash)"

timeout 20 kcat -b "$broker" -L > "$work/metadata.txt" || fail "kcat -L failed"
# The start line says where its data lives and how much it keeps; the topics are sized so.
grep -q "; in memory only, lost when malpro stops; keeps about 100000 records a topic (kafka.embedded_retention_events: 20 partitions of 5 MiB)$" \
  "$work/serve.log" || fail "the broker's start line does not say what it keeps: $(grep 'embedded broker' "$work/serve.log")"
for topic in malpro.events malpro.commands malpro.command-results malpro.proj.asn_spend; do
  grep -q "topic \"$topic\" with 20 partitions" "$work/metadata.txt" || fail "no $topic: $(cat "$work/metadata.txt")"
done
grep -q 'topic "malpro.checkpoints" with 1 partitions' "$work/metadata.txt" || fail "checkpoints: $(cat "$work/metadata.txt")"

# The relay runs behind the API: wait (bounded) until the topic holds the head.
for _ in $(seq 1 50); do
  timeout 20 kcat -b "$broker" -C -t malpro.events -e -q -f '%h\n' > "$work/headers.txt" 2>/dev/null || true
  grep -q "^sequence=$head_sequence," "$work/headers.txt" && break
  sleep 0.2
done
grep -q "^sequence=$head_sequence,type=asn.registered,hash=$head_hash,previous_hash=[0-9a-f]\{64\},format_version=1,epoch=1$" \
  "$work/headers.txt" || fail "the head is not in the topic as documented: $(tail -3 "$work/headers.txt")"
[ "$(wc -l < "$work/headers.txt")" = "$head_sequence" ] || fail "expected $head_sequence records"
[ "$(sed 's/^sequence=\([0-9]*\),.*/\1/' "$work/headers.txt" | sort -n | uniq | wc -l)" = "$head_sequence" ] \
  || fail "a sequence is missing or repeated"

# Key and value of the ASN's record: the key is the stream id, the value the event's JSON with
# the payload as a string, and its hash header equals the value's hash.
timeout 20 kcat -b "$broker" -C -t malpro.events -e -q -f '%k\t%s\n' > "$work/records.txt"
line="$(grep '^asn-198507122010011003	' "$work/records.txt")" || fail "no record keyed by the ASN stream"
value="${line#*	}"
[ "$(echo "$value" | jq -r .type)" = asn.registered ] || fail "value type: $value"
[ "$(echo "$value" | jq -r .hash)" = "$head_hash" ] || fail "value hash: $value"
[ "$(echo "$value" | jq -r '.payload | type')" = string ] || fail "payload is not the stored string"
echo "$value" | jq -r .payload | jq -e '.nip == "198507122010011003"' > /dev/null || fail "payload: $value"

# The chain, verified from the topic alone by the reference script, as the docs show.
timeout 20 kcat -b "$broker" -C -t malpro.events -e -q -f '%s\n' | jq -c -s 'sort_by(.sequence)[]' \
  > "$work/events.jsonl"
python3 "$source_dir/scripts/verify_export.py" "$work/events.jsonl" --expect-head "$head_hash" \
  > "$work/verify.txt" || fail "the chain from Kafka does not verify: $(cat "$work/verify.txt")"
grep -q "^OK $head_sequence $head_sequence $head_hash$" "$work/verify.txt" \
  || fail "unexpected verification: $(cat "$work/verify.txt")"

# malpro's own auditor check from the topic, without the data directory.
"$malpro" audit verify --kafka "$broker" --head-hash "$head_hash" > "$work/kafka_verify.txt" 2>/dev/null \
  || fail "audit verify --kafka failed: $(cat "$work/kafka_verify.txt")"
grep -q "^OK: $head_sequence events verified from Kafka topic malpro.events, head sequence $head_sequence, head hash $head_hash$" \
  "$work/kafka_verify.txt" || fail "audit verify --kafka said: $(cat "$work/kafka_verify.txt")"
if "$malpro" audit verify --kafka "$broker" --head-hash "$(printf '%064d' 0)" > /dev/null 2>&1; then
  fail "audit verify --kafka accepted a head the topic does not end on"
fi

# The read models' changelogs: the ASN's profile row, keyed by its row key.
timeout 20 kcat -b "$broker" -C -t malpro.proj.asn_spend -e -q -f '%k\t%h\t%s\n' > "$work/asn_spend.txt"
grep -q '^a/198507122010011003	position=[0-9]*	{"nip":"198507122010011003"' "$work/asn_spend.txt" \
  || fail "asn_spend changelog: $(cat "$work/asn_spend.txt")"

stop_server
echo "OK"

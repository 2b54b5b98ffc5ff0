#!/usr/bin/env bash
# End to end through the real program: serve, write through HTTP, stop, then
# `malpro audit verify`, `malpro audit export`, and the independent reference check
# (scripts/verify_export.py) on the export and on a tampered copy of it.
# Usage: audit_cli_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_serve
admin=(-H "Authorization: Bearer dev-admin")
register_test_asn "$api"
status="$(http_status "${admin[@]}" -X POST "$api/v1/umkm" \
  -d '{"umkm_id":"warung-bu-sri","name":"Warung Bu Sri","category":"sembako","kecamatan":"Klojen","kelurahan":"Kauman","sponsor":"Diskopindag","settlement_account":"0012345678","qris_criteria":"UMI"}')"
[ "$status" = 201 ] || fail "register UMKM answered $status"
# A live subscription resumes from ?after and then follows new events (Server-Sent Events).
curl -sN --max-time 3 -H "Authorization: Bearer dev-auditor" "$api/v1/subscribe/events?after=7" \
  > "$work/sse.txt" 2>/dev/null &
subscriber=$!
sleep 0.5
status="$(http_status "${admin[@]}" -X POST "$api/v1/umkm/warung-bu-sri/verify")"
[ "$status" = 200 ] || fail "verify UMKM answered $status"
wait "$subscriber" || true
grep -q '^id: 8$' "$work/sse.txt" || fail "subscription missed event 8: $(head -c 300 "$work/sse.txt")"
grep -q '^id: 10$' "$work/sse.txt" || fail "subscription missed the live event 10"
grep -q '^event: umkm.verified$' "$work/sse.txt" || fail "subscription lacks the event type"
if grep -q '^id: 7$' "$work/sse.txt"; then fail "subscription repeated event 7 after ?after=7"; fi
status="$(http_status -H "Authorization: Bearer dev-asn" "$api/v1/subscribe/events")"
[ "$status" = 403 ] || fail "an asn token followed the log ($status)"

# The read models answer once they have folded the write (?after=SEQ reads your own writes).
catalog="$(curl -s -H "Authorization: Bearer dev-asn" "$api/v1/catalog?after=10&q=warung")"
echo "$catalog" | grep -q '"umkm_id":"warung-bu-sri"' || fail "catalog lacks the verified merchant: $catalog"
echo "$catalog" | grep -q '"total":1' || fail "catalog total: $catalog"
month="$(date -u -d '+7 hours' +%Y-%m)"
spend="$(curl -s -H "Authorization: Bearer dev-asn" "$api/v1/asn/198507122010011003/spend/$month?after=10")"
echo "$spend" | grep -q '"committed":"0.00"' || fail "spend: $spend"
status="$(http_status -H "Authorization: Bearer dev-asn" "$api/v1/asn/199001012015032001/spend/$month")"
[ "$status" = 403 ] || fail "an asn token read another ASN's spend ($status)"
status="$(http_status "${admin[@]}" "$api/v1/compliance/2026-13")"
[ "$status" = 400 ] || fail "a month 13 was accepted ($status)"
curl -sN --max-time 2 -H "Authorization: Bearer dev-auditor" "$api/v1/subscribe/projections?projection=catalog" \
  > "$work/projection_sse.txt" 2>/dev/null || true
grep -q '^event: snapshot$' "$work/projection_sse.txt" || fail "projection subscription sent no snapshot"
grep -q '"key":"m/warung-bu-sri"' "$work/projection_sse.txt" || fail "projection snapshot lacks the merchant"

# The Merkle tree follows the log in the background: the leaf hashes of events 1..10, for anyone.
for _ in $(seq 50); do
  status="$(http_status "$api/tlog/tile/0/000.p/10")"
  [ "$status" = 200 ] && break
  sleep 0.1
done
[ "$status" = 200 ] || fail "GET /tlog/tile/0/000.p/10 answered $status"
[ "$(curl -s "$api/tlog/tile/0/000.p/10" | wc -c)" = 320 ] || fail "tile 0/000.p/10 is not 10 hashes"
[ "$(curl -s "$api/tlog/tile/entries/000.p/10" | wc -c)" = 340 ] || fail "the entry bundle is not 10 entries"

stop_server

# Replay as of sequence 9 (before the merchant was verified) and as of the head, into new
# directories; the same point gives the same digests.
"$malpro" -d "$work/data" audit replay --until 9 -o "$work/replay9" > "$work/replay9.txt" 2>/dev/null \
  || fail "replay --until 9 failed"
grep -q '^replayed to sequence 9 ' "$work/replay9.txt" || fail "replay: $(cat "$work/replay9.txt")"
grep -q '^  catalog v1: 1 rows' "$work/replay9.txt" || fail "replay catalog: $(cat "$work/replay9.txt")"
"$malpro" -d "$work/data" audit replay --until 10 -o "$work/replay10a" > "$work/replay10a.txt" 2>/dev/null
"$malpro" -d "$work/data" audit replay --at "$(date -u -d '+7 hours' +%Y-%m-%d)" -o "$work/replay10b" \
  > "$work/replay10b.txt" 2>/dev/null || fail "replay --at failed"
cmp -s <(grep sha256 "$work/replay10a.txt") <(grep sha256 "$work/replay10b.txt") \
  || fail "replay to the same point differs: $(cat "$work/replay10a.txt" "$work/replay10b.txt")"
if cmp -s <(grep 'catalog' "$work/replay9.txt") <(grep 'catalog' "$work/replay10a.txt"); then
  fail "replay before and after the verification gave the same catalog"
fi
grep -q 'ASN compliant' "$work/replay10a.txt" || fail "replay lacks the headline figures"
# Served as of sequence 9: the read models, the ledger's states and the log all stop there, and
# writes are refused.
start_malpro "$work/data" replay9s audit replay --until 9 -o "$work/replay9s" --serve
as_of="http://127.0.0.1:$(served_port replay9s)"
grep -q 'read-only: the ledger as it stood at sequence 9 ' "$work/replay9s.log" \
  || fail "replay --serve said: $(cat "$work/replay9s.log")"
head9="$(curl -s "${admin[@]}" "$as_of/v1/chain/head")"
echo "$head9" | grep -q '"sequence":9' || fail "as-of chain head: $head9"
umkm9="$(curl -s "${admin[@]}" "$as_of/v1/umkm/warung-bu-sri")"
echo "$umkm9" | grep -q '"status":"registered"' || fail "as-of merchant: $umkm9"
catalog9="$(curl -s -H "Authorization: Bearer dev-asn" "$as_of/v1/catalog?q=warung")"
echo "$catalog9" | grep -q '"total":0' || fail "as-of catalog shows the later verification: $catalog9"
events9="$(curl -s "${admin[@]}" "$as_of/v1/events?from=1&limit=100")"
[ "$(echo "$events9" | grep -o '"sequence":[0-9]*' | tail -1)" = '"sequence":9' ] \
  || fail "as-of events: $events9"
refused="$(curl -s -D "$work/refused.headers" "${admin[@]}" -X POST "$as_of/v1/umkm/warung-bu-sri/verify")"
echo "$refused" | grep -q '"code":"server_read_only"' || fail "a write to the replay: $refused"
grep -qi '^allow: GET, HEAD' "$work/refused.headers" || fail "refusal headers: $(cat "$work/refused.headers")"
stop_server
"$malpro" -d "$work/data" audit verify 2>/dev/null | grep -q 'head sequence 10' \
  || fail "the served replay changed the log"

set +e
"$malpro" -d "$work/data" audit replay --until 10 -o "$work/replay10a" > /dev/null 2>&1
code=$?
set -e
[ "$code" -eq 2 ] || fail "replay into a used directory exited $code, not 2"
for bad_at in 2026/10/15 2026-10-15T25:00 2026-10-15T-1:00 "2026-10-15T 9:00" yesterday; do
  set +e
  "$malpro" -d "$work/data" audit replay --at "$bad_at" -o "$work/replay-bad" > /dev/null 2> "$work/bad_at.err"
  code=$?
  set -e
  [ "$code" -eq 2 ] || fail "replay --at $bad_at exited $code, not 2"
  grep -q 'time_invalid' "$work/bad_at.err" || fail "replay --at $bad_at said: $(cat "$work/bad_at.err")"
  [ ! -e "$work/replay-bad" ] || fail "replay --at $bad_at wrote $work/replay-bad"
done

"$malpro" -d "$work/data" audit verify > "$work/verify.txt" 2>/dev/null || fail "audit verify failed: $(cat "$work/verify.txt")"
grep -q '^OK: 10 events verified, head sequence 10' "$work/verify.txt" || fail "unexpected verify output: $(cat "$work/verify.txt")"
grep -q '^OK: the Merkle tree of the first 10 events, rebuilt from the log, matches every stored tile; root [0-9a-f]\{64\}$' "$work/verify.txt" \
  || fail "verify did not check the Merkle tree: $(cat "$work/verify.txt")"
head_hash="$(sed -n 's/.*head hash \([0-9a-f]*\).*/\1/p' "$work/verify.txt")"
"$malpro" -d "$work/data" audit verify --head-hash "$head_hash" > /dev/null 2>&1 || fail "verify refused the right head hash"
if "$malpro" -d "$work/data" audit verify --to 9 --head-hash "$head_hash" > "$work/wrong_head.txt" 2>/dev/null; then
  fail "verify accepted a head hash the chain does not end on"
fi
grep -q 'is not the expected' "$work/wrong_head.txt" || fail "wrong head: $(cat "$work/wrong_head.txt")"

"$malpro" -d "$work/data" audit export -o "$work/export.jsonl" 2>/dev/null || fail "export failed"
[ "$(wc -l < "$work/export.jsonl")" -eq 10 ] || fail "export has $(wc -l < "$work/export.jsonl") lines, not 10"
result="$(python3 "$source_dir/scripts/verify_export.py" "$work/export.jsonl" --expect-head "$head_hash")" \
  || fail "reference check refused a good export: $result"
[ "$result" = "OK 10 10 $head_hash" ] || fail "reference check said: $result"

# A part of the history exported on its own verifies from its anchor.
"$malpro" -d "$work/data" audit export --from 8 -o "$work/tail.jsonl" 2>/dev/null
anchor="$(sed -n '7p' "$work/export.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hash"])')"
python3 "$source_dir/scripts/verify_export.py" "$work/tail.jsonl" --anchor "$anchor" > /dev/null \
  || fail "an anchored partial export did not verify"

# Altering one payload byte, dropping a line, or expecting another head must all fail.
sed '9s/Warung Bu Sri/Warung Bu Sro/' "$work/export.jsonl" > "$work/altered.jsonl"
if python3 "$source_dir/scripts/verify_export.py" "$work/altered.jsonl" > "$work/altered.txt"; then
  fail "an altered export verified"
fi
grep -q '^FAILED at sequence 9: content does not match its hash' "$work/altered.txt" || fail "altered: $(cat "$work/altered.txt")"
sed '5d' "$work/export.jsonl" > "$work/dropped.jsonl"
if python3 "$source_dir/scripts/verify_export.py" "$work/dropped.jsonl" > "$work/dropped.txt"; then
  fail "an export with a missing event verified"
fi
grep -q '^FAILED at sequence 5' "$work/dropped.txt" || fail "dropped: $(cat "$work/dropped.txt")"
if python3 "$source_dir/scripts/verify_export.py" "$work/export.jsonl" --expect-head "$(printf '%064d' 0)" > /dev/null; then
  fail "a wrong expected head verified"
fi

# Verify refuses a data directory that does not exist, with status 2.
set +e
"$malpro" -d "$work/nothing" audit verify > /dev/null 2>&1
code=$?
set -e
[ "$code" -eq 2 ] || fail "verify of a missing directory exited $code, not 2"
echo "audit CLI: all checks passed"

#!/usr/bin/env bash
# `malpro demo` seeds a month through the ordinary commands and serves it. The same seed must
# give the same month, event for event: the same head hash. Another seed must not.
# Usage: demo_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

seed_demo a 7 40 5
seed_demo b 7 40 5
seed_demo c 8 40 5
first="$(head_hash "$work/a")"
second="$(head_hash "$work/b")"
other="$(head_hash "$work/c")"
[ -n "$first" ] || fail "the seeded log did not verify"
[ "$first" = "$second" ] || fail "the same seed gave different months ($first vs $second)"
[ "$first" != "$other" ] || fail "another seed gave the same month"
grep -q 'seeded 2026-10 in Kota Malang: 40 ASN, 5 UMKM' "$work/a.log" || fail "summary: $(cat "$work/a.log")"
grep -q 'manual receipts approved' "$work/a.log" || fail "no receipts in the summary"
grep -q 'exceptions open: [0-9]* (GET /v1/exceptions)' "$work/a.log" || fail "the summary lacks the open exceptions"
# Its progress, written to a file, is one plain line a day (no carriage returns).
! grep -q $'\r' "$work/a.err" || fail "progress in a log file holds carriage returns"
grep -q '^demo: 2026-10 day 31/31 ' "$work/a.err" || fail "progress: $(cat "$work/a.err")"
# Cashless payments went through the in-process simulated bank over 127.0.0.1 (and the same
# seed still gave the same log above).
grep -Eq ' [1-9][0-9]* of them through the simulated bank' "$work/a.log" \
  || fail "no payment went through the simulated bank: $(cat "$work/a.log")"

# A second start on the same data serves it without seeding again.
start_malpro "$work/a" again demo
stop_server
grep -q 'already holds events; serving them without seeding' "$work/again.log" || fail "reseeded: $(cat "$work/again.log")"
[ "$(head_hash "$work/a")" = "$first" ] || fail "serving the demo again changed the log"
# Serving, the demo takes cashless payment requests through its simulated bank: an order, its
# QRIS, the payer pays at the printed address, and the payment counts; /metrics shows the
# poller's figures.
cp -r "$work/a" "$work/pay"
start_malpro "$work/pay" pay demo
api="$(sed -n 's|.*HTTP API on \(http://127.0.0.1:[0-9]*\).*|\1|p' "$work/pay.log" | head -1)"
bank="$(sed -n "s|.*cashless payments go to the demo's simulated bank at \(http://127.0.0.1:[0-9]*\).*|\1|p" "$work/pay.log" | head -1)"
[ -n "$api" ] && [ -n "$bank" ] || fail "the demo did not say where its API and bank are: $(cat "$work/pay.log")"
order="$(curl -fsS -X POST "$api/v1/orders" -H 'Authorization: Bearer dev-asn' \
  -d '{"buyer_nip":"198507122010011003","umkm_id":"warung-bu-sri","lines":[{"product_id":"beras-5kg","quantity":1}],"payment_method":"CASHLESS"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["order_id"])')" || fail "cashless order refused"
reference="$(curl -fsS -X POST "$api/v1/orders/$order/payment" -H 'Authorization: Bearer dev-asn' \
  -d '{"channel":"QRIS"}' | python3 -c 'import json,sys; p=json.load(sys.stdin)["payment"]; assert p["qr_content"].startswith("000201"); print(p["bank_reference"])')" \
  || fail "payment request refused"
# Each answer is read whole before it is searched: `curl | grep -q` under pipefail fails
# when grep stops reading early and curl cannot finish writing.
paid="$(curl -fsS -X POST "$bank/sim/pay" -d "{\"reference\":\"$reference\"}")"
grep -q '"partner_status":200' <<<"$paid" || fail "the simulated bank's notification was not accepted: $paid"
payment="$(curl -fsS "$api/v1/orders/$order/payment" -H 'Authorization: Bearer dev-asn')"
grep -q '"status":"succeeded"' <<<"$payment" || fail "the payment did not succeed: $payment"
metrics="$(curl -fsS "$api/metrics")"
grep -q '^malpro_bank_payments_pending ' <<<"$metrics" || fail "/metrics lacks the bank's figures"
stop_server

# The hints name the demo's month and the Kafka stream; replaying the served demo as of the
# 15th answers "what did the ledger say on the 15th?".
grep -q "/v1/compliance/2026-10?by=rank_class" "$work/a.log" || fail "hints lack the month: $(cat "$work/a.log")"
grep -q "kcat -b 127.0.0.1:[0-9]* -C -t malpro.events" "$work/a.log" || fail "hints lack kcat"
grep -q "/sim/pay -d" "$work/a.log" || fail "hints lack how the payer pays"
"$malpro" -d "$work/a" audit replay --at 2026-10-15 -o "$work/replay" > "$work/replay.txt" 2>/dev/null \
  || fail "replay of the demo failed"
grep -q '(recorded 2026-10-15, Asia/Jakarta)' "$work/replay.txt" || fail "replay: $(cat "$work/replay.txt")"
# The demo's month counts nothing for a cancelled order: no cash, and no payment that still
# counts (a paid order is cancelled only after a full refund); money for a voided request is a
# refund due.
"$malpro" -d "$work/a" audit export -o "$work/export.jsonl" > /dev/null 2>&1 || fail "export of the demo failed"
python3 - "$work/export.jsonl" <<'PY' || fail "a cancelled order counts in the demo"
import json, sys
from decimal import Decimal
cancelled, cash, paid, refunded = set(), set(), {}, {}
for line in open(sys.argv[1]):
    event = json.loads(line)
    kind, payload = event["type"], json.loads(event["payload"])
    if kind == "order.cancelled":
        cancelled.add(payload["order_id"])
    elif kind == "order.cash_received":
        cash.add(payload["order_id"])
    elif kind == "payment.succeeded":
        paid[payload["order_id"]] = Decimal(payload["amount"])
    elif kind == "payment.refunded":
        refunded[payload["order_id"]] = refunded.get(payload["order_id"], 0) + Decimal(payload["amount"])
bad = [o for o in cancelled if o in cash or (o in paid and refunded.get(o, 0) != paid[o])]
assert not bad, bad
PY
grep -q '^month 2026-10 so far: [0-9]* of 40 ASN compliant' "$work/replay.txt" \
  || fail "replay headline: $(cat "$work/replay.txt")"

# SIGTERM while it seeds: the demo finishes the day it is writing, says how many whole days the
# log keeps, closes it and exits 0 without serving; the log verifies and holds those days.
"$malpro" -c "$config" -d "$work/cut" -p 0 demo --seed 7 --asn 400 --umkm 10 --month 2026-10 \
  > "$work/cut.log" 2> "$work/cut.err" &
cut_pid=$!
for _ in $(seq 1 1200); do
  grep -q '^demo: 2026-10 day 2/31' "$work/cut.err" 2>/dev/null && break
  kill -0 "$cut_pid" 2>/dev/null || break
  sleep 0.05
done
grep -q '^demo: 2026-10 day 2/31' "$work/cut.err" || fail "the demo did not reach day 2: $(tail -c 300 "$work/cut.err")"
kill -TERM "$cut_pid"
cut_status=0
timeout 60 tail --pid="$cut_pid" -f /dev/null || fail "the demo did not stop within 60 s of SIGTERM while seeding"
wait "$cut_pid" || cut_status=$?
[ "$cut_status" = 0 ] || fail "the demo stopped while seeding exited $cut_status: $(tail -c 300 "$work/cut.err")"
days="$(sed -n 's/^malpro demo: signal 15 while seeding: stopped after \([0-9]*\) whole days of 2026-10 .*/\1/p' "$work/cut.log")"
[ -n "$days" ] && [ "$days" -ge 2 ] && [ "$days" -lt 31 ] || fail "stopped while seeding: $(cat "$work/cut.log")"
! grep -q 'HTTP API on' "$work/cut.log" || fail "the demo served after a SIGTERM while seeding"
grep -q '^malpro: stopped; the log is closed cleanly at sequence ' "$work/cut.log" || fail "the log was not closed: $(cat "$work/cut.log")"
[ -n "$(head_hash "$work/cut")" ] || fail "the log of a demo stopped while seeding does not verify"
"$malpro" -d "$work/cut" audit export -o "$work/cut.jsonl" > /dev/null 2>&1 || fail "export of the cut demo failed"
last_day="$(python3 -c '
import json, sys, datetime
last = max(json.loads(l)["recorded_at_us"] for l in open(sys.argv[1]))
print(datetime.datetime.fromtimestamp(last / 1e6, datetime.timezone(datetime.timedelta(hours=7))).day)' "$work/cut.jsonl")"
[ "$last_day" -le "$days" ] || fail "events of day $last_day in a log said to keep $days whole days"
echo "demo: reproducible; stops while seeding"

#!/usr/bin/env bash
# End to end through the real program: seed a month with `malpro demo`, close one business day
# with `malpro settle` (files, SHA-256 in the event, pain.001 well-formed, a second close
# refused), then `malpro reconcile` a CSV statement built from the log with one payment missing
# at the bank, one amount changed and one unknown to the ledger.
# Usage: settle_cli_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

seed_demo data 11 40 5

# The business day with the most payments in the log.
day="$(busiest_payment_day "$work/data")"

"$malpro" -c "$config" -d "$work/data" settle --date "$day" -o "$work/out" --actor operator:rina \
  > "$work/settle.txt" 2> "$work/settle.err" || fail "settle failed: $(cat "$work/settle.err")"
today="$(date -u -d '+7 hours' +%Y-%m-%d)"
pain="$work/out/malpro-settlement-$day.pain001.xml"
csv="$work/out/malpro-settlement-$day.csv"
[ -f "$pain" ] && [ -f "$csv" ] || fail "settle wrote $(ls "$work/out")"
grep -q "^business day $day closed" "$work/settle.txt" || fail "settle said: $(cat "$work/settle.txt")"
xmllint --noout "$pain" || fail "the pain.001 is not well-formed"
grep -q 'xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"' "$pain" || fail "pain.001 namespace"

# The files' SHA-256 are those recorded in settlement.batch_closed, and the CSV's net column
# adds up to the event's total_net.
"$malpro" -d "$work/data" audit export -o "$work/after.jsonl" 2>/dev/null
python3 - "$work/after.jsonl" "$day" "$(sha256sum "$pain" | cut -d' ' -f1)" \
  "$(sha256sum "$csv" | cut -d' ' -f1)" "$csv" <<'PY' || fail "the event does not match the files"
import csv, json, sys
from decimal import Decimal
export, day, pain_sha, csv_sha, csv_path = sys.argv[1:]
closed = [json.loads(json.loads(line)["payload"]) for line in open(export)
          if json.loads(line)["type"] == "settlement.batch_closed"]
assert len(closed) == 1, closed
event = closed[0]
assert event["business_date"] == day, event
assert event["pain001_sha256"] == pain_sha, (event, pain_sha)
assert event["csv_sha256"] == csv_sha, (event, csv_sha)
rows = [row for row in csv.DictReader(open(csv_path, newline="")) if row["end_to_end_id"] != "TOTAL"]
assert len(rows) == len(event["merchants"]), rows
assert sum(Decimal(row["net"]) for row in rows) == Decimal(event["total_net"]), rows
PY

# A second close of the same day is refused and leaves the files as they are.
before="$(sha256sum "$pain" "$csv")"
if "$malpro" -c "$config" -d "$work/data" settle --date "$day" -o "$work/out" > /dev/null 2> "$work/again.err"; then
  fail "the same day was closed twice"
fi
grep -q settlement_already_closed "$work/again.err" || fail "second close said: $(cat "$work/again.err")"
[ "$(sha256sum "$pain" "$csv")" = "$before" ] || fail "a refused close changed the files"

# The bank's statement: every payment of the month and the day's transfers, except that one
# payment is missing, one is booked for Rp1.000 more, and one credit is unknown to the ledger.
python3 - "$work/after.jsonl" "$csv" "$today" > "$work/statement.csv" 2> "$work/expected.txt" <<'PY'
import csv, datetime, json, sys
from decimal import Decimal
export, settlement_csv, today = sys.argv[1:]
payments = []
for line in open(export):
    event = json.loads(line)
    if event["type"] == "payment.succeeded":
        payments.append(json.loads(event["payload"]))
payments.sort(key=lambda p: p["paid_at_us"])
assert len(payments) >= 3, payments
def jakarta(us):
    return (datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us, hours=7)).strftime("%Y-%m-%dT%H:%M:%S")
print("statement_id,account,booking_date,credit_debit,amount,reference,description")
missing = payments[len(payments) // 2]
for index, payment in enumerate(payments):
    if payment is missing:
        continue
    amount = Decimal(payment["amount"]) + (1000 if index == 0 else 0)
    print(f"BJTM-OCT,0011000000,{jakarta(payment['paid_at_us'])},CRDT,{amount:.2f},{payment['bank_reference']},QRIS")
print(f"BJTM-OCT,0011000000,{jakarta(payments[1]['paid_at_us'])},CRDT,50000.00,bj-unknown-1,QRIS")
transfers = [row for row in csv.DictReader(open(settlement_csv, newline="")) if row["end_to_end_id"] != "TOTAL"]
for row in transfers:
    print(f"BJTM-OCT,0011000000,{today},DBIT,{row['net']},{row['end_to_end_id']},settlement")
print(f"matched {len(payments) - 2 + len(transfers)}, missing in ledger 1, missing at bank 1, amount mismatch 1, refund due 0", file=sys.stderr)
print(missing["bank_reference"], payments[0]["bank_reference"], file=sys.stderr)
PY
expected_counts="$(sed -n 1p "$work/expected.txt")"
read -r missing_ref mismatch_ref < <(sed -n 2p "$work/expected.txt")
status=0
"$malpro" -c "$config" -d "$work/data" reconcile --statement "$work/statement.csv" \
  -o "$work/report.csv" > "$work/reconcile.txt" 2> "$work/reconcile.err" || status=$?
[ "$status" = 1 ] || fail "reconcile with open discrepancies exited $status: $(cat "$work/reconcile.err")"
grep -q "^$expected_counts\$" "$work/reconcile.txt" \
  || fail "expected '$expected_counts': $(cat "$work/reconcile.txt")"
grep -q "^missing_at_bank,[0-9]*,CRDT,$missing_ref," "$work/report.csv" || fail "report: $(cat "$work/report.csv")"
grep -q "^amount_mismatch,[0-9]*,CRDT,$mismatch_ref," "$work/report.csv" || fail "report: $(cat "$work/report.csv")"
grep -q "^missing_in_ledger,[0-9]*,CRDT,bj-unknown-1," "$work/report.csv" || fail "report: $(cat "$work/report.csv")"
[ "$(grep -c '^matched,' "$work/report.csv")" = "$(echo "$expected_counts" | sed 's/matched \([0-9]*\),.*/\1/')" ] \
  || fail "matched rows: $(cat "$work/report.csv")"
grep -q 'recorded reconciliation.completed at sequence [0-9]* (stream reconciliation-bjtm-oct)' \
  "$work/reconcile.txt" || fail "no event: $(cat "$work/reconcile.txt")"
"$malpro" -d "$work/data" audit verify > /dev/null 2>&1 || fail "the chain does not verify"

# A statement that does not parse records nothing.
printf 'statement_id,account,booking_date,credit_debit,amount,reference\nX,1,2026-10-99,CRDT,1.00,r\n' \
  > "$work/bad.csv"
head_before="$("$malpro" -d "$work/data" audit verify 2>/dev/null)"
if "$malpro" -c "$config" -d "$work/data" reconcile --statement "$work/bad.csv" > /dev/null 2> "$work/bad.err"; then
  fail "a bad statement was reconciled"
fi
grep -q 'line 2 booking_date' "$work/bad.err" || fail "bad statement said: $(cat "$work/bad.err")"
[ "$("$malpro" -d "$work/data" audit verify 2>/dev/null)" = "$head_before" ] || fail "a bad statement wrote"
# A statement of another account than settlement.debtor_account is refused, naming both.
sed 's/,0011000000,/,0099999999,/' "$work/statement.csv" > "$work/other-account.csv"
head_before="$("$malpro" -d "$work/data" audit verify 2>/dev/null)"
status=0
"$malpro" -c "$config" -d "$work/data" reconcile --statement "$work/other-account.csv" > /dev/null \
  2> "$work/other-account.err" || status=$?
[ "$status" = 2 ] || fail "another account's statement exited $status"
grep -q 'statement_account_mismatch (field account)' "$work/other-account.err" \
  || fail "another account said: $(cat "$work/other-account.err")"
grep -q '0099999999.*0011000000' "$work/other-account.err" || fail "both accounts not named"
[ "$("$malpro" -d "$work/data" audit verify 2>/dev/null)" = "$head_before" ] || fail "another account's statement wrote"

# Statement ids are case-sensitive and never rewritten: two ids that differ in case or
# separators are two statements in two streams; an id outside the alphabet is refused.
streams=()
for id in 'BJTM/OCT/2' 'bjtm/oct/2' 'BJTM-OCT-2'; do
  sed "s|^BJTM-OCT,|$id,|" "$work/statement.csv" > "$work/id.csv"
  status=0
  "$malpro" -c "$config" -d "$work/data" reconcile --statement "$work/id.csv" > "$work/id.txt" \
    2> "$work/id.err" || status=$?
  [ "$status" = 1 ] || fail "statement $id exited $status: $(cat "$work/id.err")"
  grep -q "^statement $id (csv, account 0011000000" "$work/id.txt" || fail "statement $id: $(cat "$work/id.txt")"
  grep -q "run 1\$" "$work/id.txt" || fail "statement $id shares a stream: $(head -1 "$work/id.txt")"
  streams+=("$(sed -n 's/.*(stream \(reconciliation-[a-z0-9-]*\))$/\1/p' "$work/id.txt")")
done
[ "${streams[*]}" = "reconciliation-bjtm-oct-2--110 reconciliation-bjtm-oct-2--vf0 reconciliation-bjtm-oct-2" ] \
  || fail "streams: ${streams[*]}"
sed 's|^BJTM-OCT,|"BJTM OCT",|' "$work/statement.csv" > "$work/space.csv"
status=0
"$malpro" -c "$config" -d "$work/data" reconcile --statement "$work/space.csv" > /dev/null \
  2> "$work/space.err" || status=$?
[ "$status" = 2 ] || fail "an id with a space exited $status"
grep -q 'statement_id_invalid (field statement_id)' "$work/space.err" || fail "space said: $(cat "$work/space.err")"
echo "settle and reconcile: ok"

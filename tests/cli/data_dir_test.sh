#!/usr/bin/env bash
# settle, reconcile, backup and every audit command open an existing Malpro data directory only: a
# missing path, a file, an empty folder or another RocksDB database is an error naming the
# path, exit 2, and nothing is created. serve creates one. settle refuses a business day before
# the ledger's first day (the Asia/Jakarta date of event 1), writing nothing.
# Usage: data_dir_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

printf 'statement_id,account,booking_date,credit_debit,amount,reference\nS1,0011000000,2026-10-01,CRDT,1.00,r\n' \
  > "$work/statement.csv"

# Runs every command that must not create a data directory against `dir`; each must exit 2
# with `code` and the path in its message.
expect_refused() {
  local dir="$1" code="$2"
  local commands=(
    "settle --date 2026-10-01 -o $work/settle-out"
    "reconcile --statement $work/statement.csv"
    "audit verify"
    "audit export -o $work/export.jsonl"
    "audit replay --until 1 -o $work/replay-out"
    "backup -o $work/backup-out")
  for command in "${commands[@]}"; do
    status=0
    # shellcheck disable=SC2086
    "$malpro" -c "$config" -d "$dir" $command > /dev/null 2> "$work/refused.err" || status=$?
    [ "$status" = 2 ] || fail "'$command' on $dir exited $status: $(cat "$work/refused.err")"
    grep -q "$code" "$work/refused.err" || fail "'$command' on $dir said: $(cat "$work/refused.err")"
    grep -qF "$dir" "$work/refused.err" || fail "'$command' does not name $dir: $(cat "$work/refused.err")"
  done
  for made in settle-out export.jsonl replay-out backup-out; do
    [ ! -e "$work/$made" ] || fail "a refused command on $dir created $made"
  done
}

expect_refused "$work/mistyped" data_dir_not_found
[ ! -e "$work/mistyped" ] || fail "the missing data directory was created"
touch "$work/a-file"
expect_refused "$work/a-file" data_dir_not_ledger
mkdir "$work/empty"
expect_refused "$work/empty" data_dir_not_ledger
[ -z "$(ls -A "$work/empty")" ] || fail "something was created in an empty folder: $(ls -A "$work/empty")"

# serve creates a data directory (and writes the configured policy as its first events).
start_serve
stop_server
"$malpro" -d "$work/data" audit verify > /dev/null || fail "serve did not create a ledger"

# The read models are a RocksDB database too, but not a ledger.
expect_refused "$work/data/projections" data_dir_not_ledger

# The first day is the Asia/Jakarta date of event 1 (today's): the day before is refused.
read -r first_day yesterday < <("$malpro" -d "$work/data" audit export --to 1 2>/dev/null | python3 -c '
import datetime, json, sys
first = datetime.datetime(1970, 1, 1) + datetime.timedelta(
    microseconds=json.loads(sys.stdin.readline())["recorded_at_us"], hours=7)
print(first.date(), first.date() - datetime.timedelta(days=1))')
[ -n "$yesterday" ] || fail "no first event"
head_before="$("$malpro" -d "$work/data" audit verify)"
status=0
"$malpro" -c "$config" -d "$work/data" settle --date "$yesterday" -o "$work/out" > /dev/null \
  2> "$work/early.err" || status=$?
[ "$status" = 2 ] || fail "settle before the first day exited $status"
grep -q "settlement_before_first_day" "$work/early.err" || fail "early settle said: $(cat "$work/early.err")"
grep -qF "business_date (--date) $yesterday is before the ledger's first day $first_day" \
  "$work/early.err" || fail "early settle said: $(cat "$work/early.err")"
[ ! -e "$work/out" ] || fail "settle before the first day wrote $(ls "$work/out")"
[ "$("$malpro" -d "$work/data" audit verify)" = "$head_before" ] || fail "settle before the first day wrote an event"
echo "data directories and the first day: ok"

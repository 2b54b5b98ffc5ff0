#!/usr/bin/env bash
# A settlement close killed at each step can be run again, and ends with files whose SHA-256 is
# the one recorded in settlement.batch_closed. `malpro settle` runs as a child process that the
# test hook MALPRO_SETTLE_CRASH_AT ends with _exit(86) at one step (adapters/files/
# settlement_run.h); each step starts from its own copy of one seeded data directory.
# Usage: settle_crash_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
crash_exit=86

seed_demo data 7 30 4

# The business day with the most cashless payments: it has a pain.001 and a CSV.
day="$(busiest_payment_day "$work/data")"

# Checks that the day is closed once, that the files on disk hash to what the event records,
# and that no temp file is left. Prints the recorded pain.001 hash.
check_closed() {
  local data="$1" out="$2" why="$3"
  "$malpro" -d "$data" audit export -o "$data.jsonl" 2>/dev/null || fail "$why: export failed"
  python3 - "$data.jsonl" "$day" "$out" <<'PY' || fail "$why: the files are not the recorded ones"
import hashlib, json, os, sys
export, day, out = sys.argv[1:]
closed = [json.loads(json.loads(line)["payload"]) for line in open(export)
          if json.loads(line)["type"] == "settlement.batch_closed"]
assert len(closed) == 1, f"closed {len(closed)} times"
event = closed[0]
assert event["business_date"] == day, event
def sha256(name):
    with open(os.path.join(out, name), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
pain = f"malpro-settlement-{day}.pain001.xml"
assert event["file_name"] == pain, event
assert sha256(pain) == event["pain001_sha256"], "pain.001 on disk differs from the event"
assert sha256(f"malpro-settlement-{day}.csv") == event["csv_sha256"], "csv differs"
left = sorted(os.listdir(out))
assert left == [f"malpro-settlement-{day}.csv", pain], f"files left: {left}"
print(event["pain001_sha256"])
PY
  "$malpro" -d "$data" audit verify > /dev/null 2>&1 || fail "$why: the chain does not verify"
}

batch_closed_count() {
  "$malpro" -d "$1" audit export 2>/dev/null | grep -c '"type":"settlement.batch_closed"' || true
}

for step in after_pain001 after_csv after_rename before_close_event after_close_event; do
  data="$work/data-$step"
  out="$work/out-$step"
  cp -a "$work/data" "$data"
  status=0
  MALPRO_SETTLE_CRASH_AT="$step" "$malpro" -c "$config" -d "$data" settle --date "$day" \
    -o "$out" > /dev/null 2> "$work/crash-$step.err" || status=$?
  [ "$status" = "$crash_exit" ] || fail "$step: the settle child exited $status, not at the step: $(cat "$work/crash-$step.err")"
  pain="$out/malpro-settlement-$day.pain001.xml"
  if [ "$step" = after_close_event ]; then
    [ "$(batch_closed_count "$data")" = 1 ] || fail "$step: the event is not in the log"
    # The day is closed: a second run is refused, names both recorded hashes, and leaves the
    # files alone.
    before="$(sha256sum "$out"/*)"
    status=0
    "$malpro" -c "$config" -d "$data" settle --date "$day" -o "$out" > /dev/null \
      2> "$work/again-$step.err" || status=$?
    [ "$status" = 2 ] || fail "$step: the re-run of a closed day exited $status"
    grep -q settlement_already_closed "$work/again-$step.err" \
      || fail "$step: re-run said $(cat "$work/again-$step.err")"
    grep -q "pain.001 malpro-settlement-$day.pain001.xml sha256 $(sha256sum "$pain" | cut -d' ' -f1)" \
      "$work/again-$step.err" || fail "$step: no pain.001 hash in $(cat "$work/again-$step.err")"
    grep -q "csv malpro-settlement-$day.csv sha256 $(sha256sum "$out/malpro-settlement-$day.csv" | cut -d' ' -f1)" \
      "$work/again-$step.err" || fail "$step: no csv hash in $(cat "$work/again-$step.err")"
    [ "$(sha256sum "$out"/*)" = "$before" ] || fail "$step: a refused re-run changed the files"
  else
    [ "$(batch_closed_count "$data")" = 0 ] || fail "$step: the day closed although killed before its event"
    stale=""
    [ -f "$pain" ] && stale="$(sha256sum "$pain" | cut -d' ' -f1)"
    case "$step" in
      after_rename|before_close_event) [ -n "$stale" ] || fail "$step: the files were not renamed yet" ;;
      *) [ -f "$pain.tmp" ] || fail "$step: no temp file: $(ls "$out")" ;;
    esac
    sleep 1.1  # a new CreDtTm: the re-run's pain.001 differs from the one left behind
    "$malpro" -c "$config" -d "$data" settle --date "$day" -o "$out" > "$work/rerun-$step.txt" \
      2> "$work/rerun-$step.err" || fail "$step: the re-run failed: $(cat "$work/rerun-$step.err")"
    grep -q "^business day $day closed" "$work/rerun-$step.txt" || fail "$step: re-run said $(cat "$work/rerun-$step.txt")"
  fi
  recorded="$(check_closed "$data" "$out" "$step")"
  if [ "$step" = after_rename ] || [ "$step" = before_close_event ]; then
    [ "$recorded" != "$stale" ] || fail "$step: the pain.001 left behind was kept, not written again"
  fi
done
echo "settle crash at every step: ok"

#!/usr/bin/env bash
# `malpro` guides a user who reads only README.md and docs/RUNBOOK.md: the global options work
# before or after the subcommand at any depth; a usage error exits 2 with one line naming what
# was wrong and the --help to run; --head-hash takes 64 hex digits in either case; export says
# whether the chain verifies (and really checks it); replay names --at or --until; a busy port
# or a data directory held by another malpro says what to do; every --help shows its defaults;
# serve and demo end on a line saying the log closed cleanly; and every request the demo
# suggests works (a 30-day month included).
# Usage: guidance_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Runs malpro with ARGS, its output in $work/out and $work/err; sets `status`.
run() {
  status=0
  "$malpro" "$@" > "$work/out" 2> "$work/err" || status=$?
}

# `malpro ARGS...` must be a usage error: exit 2 and one line matching PATTERN (extended regex)
# that ends with "run 'malpro SUB --help'" (SUB empty: the program's own help).
expect_usage_error() {  # sub pattern args...
  local sub="$1" pattern="$2"
  shift 2
  run "$@"
  [ "$status" = 2 ] || fail "'malpro $*' exited $status, not 2: $(cat "$work/err")"
  [ "$(wc -l < "$work/err")" = 1 ] || fail "'malpro $*' wrote more than one line: $(cat "$work/err")"
  grep -qF "; run 'malpro${sub:+ $sub} --help'" "$work/err" \
    || fail "'malpro $*' does not point to its help: $(cat "$work/err")"
  grep -qE -- "$pattern" "$work/err" || fail "'malpro $*' said: $(cat "$work/err")"
}

# Starts `malpro ARGS...` in the background like start_malpro, without adding options (they
# are given after the subcommand here); returns once it printed what to try and serves.
start_after() {  # name args...
  local name="$1"
  shift
  "$malpro" "$@" > "$work/$name.log" 2> "$work/$name.err" &
  server_pid=$!
  for _ in $(seq 1 "$serve_start_tries_max"); do
    grep -q 'running; stop with Ctrl-C' "$work/$name.log" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "'malpro $*' did not start serving: $(tail -c 300 "$work/$name.err")"
}

# Stops the server with SIGTERM; it must exit 0 and end on the line saying the log closed
# cleanly, at the head `audit verify` finds in DATA.
expect_clean_stop() {  # name data
  local code=0
  kill -TERM "$server_pid"
  wait "$server_pid" || code=$?
  server_pid=""
  [ "$code" = 0 ] || fail "$1 exited $code after SIGTERM: $(tail -c 300 "$work/$1.err")"
  local last
  last="$(tail -n 1 "$work/$1.log")"
  "$malpro" -d "$2" audit verify > "$work/verify-$1.txt" 2>/dev/null || fail "$1 left a log that does not verify"
  local sequence hash
  read -r sequence hash < <(sed -n 's/.*head sequence \([0-9]*\), head hash \([0-9a-f]*\).*/\1 \2/p' "$work/verify-$1.txt")
  [ "$last" = "malpro: stopped; the log is closed cleanly at sequence $sequence (head hash $hash)" ] \
    || fail "$1 ended on: $last"
}

# ---- Usage errors: exit 2, one line, what was wrong and which --help to read.
expect_usage_error "" "unknown subcommand 'frob' \(one of: serve, replica, promote, audit, " frob
expect_usage_error replica "--kafka is required" replica
expect_usage_error "" "a subcommand is required" --data "$work/data"
expect_usage_error audit "unknown subcommand 'frob' \(one of: verify, export, replay, check-proof\)" audit frob
expect_usage_error audit "a subcommand is required" audit
expect_usage_error "audit verify" "--bogus" audit verify --bogus
expect_usage_error "audit verify" "--from" audit verify --from
expect_usage_error "audit verify" "--from" audit verify --from many
expect_usage_error "audit verify" "--witness requires --since-checkpoint" audit verify --witness w
expect_usage_error "audit verify" "--witnesses-required requires --since-checkpoint" \
  audit verify --witnesses-required 1
expect_usage_error settle "--date" settle
expect_usage_error demo "--asn" demo --asn 0
expect_usage_error serve "--port" serve --port 70000
expect_usage_error serve "--config" serve --config "$work/no-such.toml"
expect_usage_error "audit replay" "--at" audit replay --until 3 --at 2026-10-01
run audit verify --help
[ "$status" = 0 ] && grep -q -- '--head-hash' "$work/out" || fail "audit verify --help exited $status"
grep -qF 'Global options, before or after the subcommand: -c,--config FILE, -d,--data DIR' \
  "$work/out" || fail "audit verify --help does not name the global options: $(cat "$work/out")"

# ---- Every --help shows each option's default (a value, or in words), or that it is required.
for command in "" serve replica promote broker demo backup restore settle reconcile bank-sim witness "audit verify" "audit export" \
  "audit replay" "audit check-proof"; do
  # shellcheck disable=SC2086
  "$malpro" $command --help > "$work/help.txt" || fail "'malpro $command --help' failed"
  python3 - "$work/help.txt" "$command" <<'PY' || fail "'malpro $command --help' lacks defaults"
import re, sys
entries, current = [], None
for line in open(sys.argv[1]):
    if re.match(r"^  -", line):
        current = [line.strip()]
        entries.append(current)
    elif current is not None and re.match(r"^ {4,}\S", line):
        current.append(line.strip())
    else:
        current = None
bad = [" ".join(e) for e in entries
       if not e[0].startswith("-h,--help")
       and not re.search(r"=\S|default|REQUIRED|give --until or --at", " ".join(e))]
assert not bad, "%s: %s" % (sys.argv[2], bad)
PY
done
"$malpro" demo --help > "$work/help.txt"
for shown in '--seed UINT=20230313' '--asn INT.*=7000' '--umkm INT.*=165' '--bank-payments INT.*=1000000'; do
  grep -qE -- "$shown" "$work/help.txt" || fail "demo --help lacks $shown: $(cat "$work/help.txt")"
done
grep -qE -- '--month TEXT .*default: the month before this one' "$work/help.txt" || fail "demo --help lacks --month's default"

# ---- A ledger served; the global options after the subcommand, at any depth.
start_serve
register_test_asn "$api"
# Another server on its port, and another malpro on its data directory, are told what to do.
run -c "$config" -d "$work/other" -p "$port" serve
[ "$status" = 2 ] || fail "serve on a busy port exited $status: $(cat "$work/err")"
grep -qF "port_in_use: port $port is in use: stop the other server or pass --port N" "$work/err" \
  || fail "serve on a busy port said: $(cat "$work/err")"
for command in serve demo; do
  run -c "$config" -d "$work/data" -p 0 "$command"
  [ "$status" = 2 ] || fail "$command on a data directory in use exited $status: $(cat "$work/err")"
  grep -qF "data_dir_in_use: data directory $work/data is in use by another malpro process (its LOCK is held): stop it or use another --data" \
    "$work/err" || fail "$command on a data directory in use said: $(cat "$work/err")"
done
expect_clean_stop serve "$work/data"

run audit verify --data "$work/data"
[ "$status" = 0 ] || fail "audit verify --data exited $status: $(cat "$work/err")"
head_sequence="$(sed -n 's/^OK: .*head sequence \([0-9]*\),.*/\1/p' "$work/out")"
head_hash="$(sed -n 's/^OK: .*head hash \([0-9a-f]*\)$/\1/p' "$work/out")"
[ -n "$head_hash" ] && [ "$head_sequence" -gt 2 ] || fail "audit verify said: $(cat "$work/out")"
run audit verify -c "$config" -d "$work/data" --to 2
grep -q '^OK: 2 events verified, head sequence 2' "$work/out" || fail "audit verify --to 2 -d said: $(cat "$work/out" "$work/err")"
run audit replay --until 2 -o "$work/replay2" -d "$work/data"
[ "$status" = 0 ] && grep -q '^replayed to sequence 2 ' "$work/out" || fail "audit replay -d exited $status: $(cat "$work/err")"

# ---- --head-hash: 64 hex digits in either case.
upper="$(tr 'a-f' 'A-F' <<<"$head_hash")"
run audit verify --head-hash "$upper" --data "$work/data"
[ "$status" = 0 ] || fail "the right head hash in upper case exited $status: $(cat "$work/out")"
expect_usage_error "audit verify" "--head-hash: must be 64 hex digits" -d "$work/data" audit verify --head-hash abc123
expect_usage_error "audit verify" "--head-hash" -d "$work/data" audit verify --head-hash "${head_hash:1}"
expect_usage_error "audit verify" "--head-hash" -d "$work/data" audit verify --head-hash "g${head_hash:1}"
run -d "$work/data" audit verify --to 2 --head-hash "$upper"
[ "$status" = 1 ] && grep -q 'is not the expected' "$work/out" || fail "a head hash of another range exited $status"

# ---- export checks the chain it writes and says so; its progress says "exported", not "verified".
run audit export -o "$work/export.jsonl" -d "$work/data"
[ "$status" = 0 ] || fail "export exited $status: $(cat "$work/err")"
grep -qx "exported $head_sequence events (1..$head_sequence) to $work/export.jsonl" "$work/err" \
  || fail "export said: $(cat "$work/err")"
grep -qx "OK: the chain verifies from sequence 1 to $head_sequence, head hash $head_hash" "$work/err" \
  || fail "export said: $(cat "$work/err")"
! grep -q '^verified ' "$work/err" || fail "export claims to have verified in its progress: $(cat "$work/err")"
[ "$(wc -l < "$work/export.jsonl")" = "$head_sequence" ] || fail "the export lacks events"
run -d "$work/data" audit export --from 3 -o "$work/tail.jsonl"
grep -qx "OK: the chain verifies from sequence 1 to $head_sequence, head hash $head_hash" "$work/err" \
  || fail "a partial export said: $(cat "$work/err")"

# ---- replay's errors name the option given.
run -d "$work/data" audit replay --at 2000-01-01 -o "$work/replay-early"
[ "$status" = 2 ] || fail "replay before the first event exited $status"
grep -qF -- "(field --at): nothing to replay at --at 2000-01-01: its first event was recorded on" \
  "$work/err" || fail "replay --at before the first event said: $(cat "$work/err")"
! grep -q 'until' "$work/err" || fail "replay --at names --until: $(cat "$work/err")"
run -d "$work/data" audit replay --at 2026-02-30 -o "$work/replay-bad"
[ "$status" = 2 ] && grep -qF -- "time_invalid (field --at): --at must be" "$work/err" \
  || fail "replay --at 2026-02-30 said: $(cat "$work/err")"
run -d "$work/data" audit replay --until 100000 -o "$work/replay-late"
[ "$status" = 2 ] && grep -qF -- "(field --until): nothing to replay at --until 100000" "$work/err" \
  || fail "replay --until past the head said: $(cat "$work/err")"

# ---- The demo of a 30-day month, options after the subcommand: every request it suggests works.
start_after demo demo --seed 3 --asn 30 --umkm 4 --month 2026-11 -c "$config" -d "$work/demo" -p 0
grep -qF -- "-01&to=2026-11-30'" "$work/demo.log" || fail "the hints do not end the month on the 30th: $(cat "$work/demo.log")"
tried=0
while IFS= read -r line; do
  case "$line" in *ORDER_ID* | *BANK_REFERENCE*) continue ;; esac
  request="${line%%   (*}"  # without the comment after it
  code="$(eval "$request -o /dev/null -w '%{http_code}' --max-time 3" || true)"
  [[ "$code" == 2?? ]] || fail "the demo suggests '$request', which answers $code"
  tried=$((tried + 1))
done < <(grep '^  curl ' "$work/demo.log")
[ "$tried" -ge 8 ] || fail "only $tried requests suggested: $(cat "$work/demo.log")"
while IFS= read -r line; do
  command="${line/.\/build\/malpro/\"\$malpro\"}"
  eval "$command" > "$work/hint.out" 2>&1 || fail "the demo suggests '$line', which failed: $(cat "$work/hint.out")"
done < <(grep '^  ./build/malpro .*--kafka' "$work/demo.log")
expect_clean_stop demo "$work/demo"
# What it suggests after stopping works too (its replay directory moved into $work).
while IFS= read -r line; do
  command="${line%%   (*}"
  command="${command/.\/build\/malpro/\"\$malpro\"}"
  command="${command//\/tmp\/malpro-replay/$work/malpro-replay}"
  eval "$command" > "$work/hint.out" 2>&1 || fail "the demo suggests '$line', which failed: $(cat "$work/hint.out")"
done < <(sed -n '/^After stopping/,/^Every route/p' "$work/demo.log" | grep '^  ./build/malpro ')
[ -d "$work/malpro-replay" ] || fail "the suggested replay did not run"
echo "the CLI guides its user: ok"

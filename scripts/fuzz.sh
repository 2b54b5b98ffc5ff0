#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan and UBSan) in FUZZ_BUILD_DIR and runs
# each for FUZZ_SECONDS over a copy of its seed corpus and regressions; see docs/RUNBOOK.md,
# "Fuzzing". New inputs found are kept in $FUZZ_BUILD_DIR/fuzz-corpus/<name>/ (the next run
# starts from them too); a crash is written to $FUZZ_BUILD_DIR/fuzz-crashes/<name>/ and makes
# the run fail after the other targets have run.
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_TARGETS   names to run, space-separated (default: every target)
#   FUZZ_BUILD_DIR build directory (default build-fuzz)
#   FUZZ_JOBS      build parallelism (default: the number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
build="${FUZZ_BUILD_DIR:-build-fuzz}"
jobs="${FUZZ_JOBS:-$(nproc)}"

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
  -DMALPRO_FUZZ=ON > /dev/null
cmake --build "$build" -j "$jobs" --target fuzz_targets

targets="${FUZZ_TARGETS:-$(cat "$build/fuzz/targets.txt")}"

# The dictionary of each target (tests/fuzz/dictionaries/).
dictionary_of() {
  case "$1" in
    request_body | intake_command) echo json ;;
    snap_notify | snap_signature) echo snap ;;
    http_framing) echo http ;;
    *) echo "$1" ;;
  esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
# The targets that hold a ledger keep its log under here.
export TMPDIR="$PWD/$build/fuzz-tmp"
mkdir -p "$TMPDIR"

failed=()
for name in $targets; do
  corpus="$build/fuzz-corpus/$name"
  crashes="$build/fuzz-crashes/$name"
  mkdir -p "$corpus" "$crashes"
  for seeds in "tests/fuzz/corpus/$name" "tests/fuzz/regressions/$name"; do
    [ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2> /dev/null || true
  done
  options=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=4096 -print_final_stats=1
           -artifact_prefix="$crashes/")
  dictionary="tests/fuzz/dictionaries/$(dictionary_of "$name").dict"
  [ -f "$dictionary" ] && options+=(-dict="$dictionary")
  echo "fuzz: $name for ${seconds}s (corpus $corpus)"
  if ! "$build/fuzz/${name}_fuzz" "${options[@]}" "$corpus" > "$build/fuzz-$name.log" 2>&1; then
    failed+=("$name")
    echo "fuzz: $name FAILED; the input is in $crashes/, the report in $build/fuzz-$name.log"
    tail -n 40 "$build/fuzz-$name.log"
  else
    grep -E '^(Done|stat::number_of_executed_units)' "$build/fuzz-$name.log" | tr '\n' ' '
    echo
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: every target ran ${seconds}s clean"

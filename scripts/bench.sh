#!/usr/bin/env bash
# Runs the benchmarks that docs/PERFORMANCE.md quotes: each suite with repetitions (medians,
# since the machine is noisy), and the PostgreSQL peer doing the same appends.
# Usage: bash scripts/bench.sh [BUILD_DIR]   (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
repetitions="${BENCH_REPETITIONS:-5}"

echo "== event log (Google Benchmark, ${repetitions} repetitions, medians)"
"${build_dir}/bench/log_bench" \
  --benchmark_repetitions="${repetitions}" \
  --benchmark_report_aggregates_only=true \
  --benchmark_min_time=1 2>&1 | grep -E "median|^Run on|^Benchmark|^---" || true

if [ -x bench/pg_peer.sh ] || [ -f bench/pg_peer.sh ]; then
  echo "== PostgreSQL peer"
  bash bench/pg_peer.sh
fi

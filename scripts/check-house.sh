#!/usr/bin/env bash
# The house rules that a compiler does not check (docs/RUNBOOK.md, "Keeping the house"):
#   - every C++ file is as clang-format (.clang-format: Google, 100 columns) writes it;
#   - no source file of the product (engine/, adapters/, projections/) is over 800 lines;
#   - no function there is over 70 lines (a function counted from a line that starts at the
#     left margin to the "}" that closes it there, as this codebase writes them).
# Prints each breach and exits 1 if there is any. `scripts/check-house.sh --fix` rewrites the
# files clang-format would change instead of failing on them.
set -euo pipefail
cd "$(dirname "$0")/.."

file_lines_max=800
function_lines_max=70
failed=0

mapfile -t sources < <(git ls-files -co --exclude-standard -- '*.cc' '*.h' | while read -r f; do
  [ -f "$f" ] && echo "$f"; done)

if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${sources[@]}"
elif ! clang-format --dry-run --Werror "${sources[@]}" 2> /tmp/check-house-format.$$; then
  grep -E '^[^ ].*: (error|warning):' /tmp/check-house-format.$$ | cut -d: -f1 | sort | uniq -c |
    sed 's/^ *\([0-9]*\) \(.*\)/house: \2: \1 lines differ from clang-format (run scripts\/check-house.sh --fix)/'
  failed=1
fi
rm -f /tmp/check-house-format.$$

python3 - "$file_lines_max" "$function_lines_max" "${sources[@]}" <<'PY' || failed=1
import sys
file_max, function_max = int(sys.argv[1]), int(sys.argv[2])
breaches = 0
for path in sys.argv[3:]:
    if not path.startswith(("engine/", "adapters/", "projections/")):
        continue
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    if len(lines) - 1 > file_max:
        print(f"house: {path}: {len(lines) - 1} lines (at most {file_max})")
        breaches += 1
    if not path.endswith(".cc"):
        continue
    start = None
    for number, line in enumerate(lines):
        if start is None:
            if line and not line[0].isspace() and "(" in line and not line.startswith(
                    ("#", "//", "namespace", "}")):
                for ahead in lines[number:number + 8]:
                    if ahead.rstrip().endswith("{"):
                        start = number
                        break
                    if ahead.rstrip().endswith(";"):
                        break
        elif line.startswith("}"):
            length = number - start + 1
            if length > function_max:
                print(f"house: {path}:{start + 1}: a function of {length} lines "
                      f"(at most {function_max}): {lines[start].strip()[:80]}")
                breaches += 1
            start = None
sys.exit(1 if breaches else 0)
PY

if [ "$failed" -ne 0 ]; then
  echo "house: the tree breaks the rules above" >&2
  exit 1
fi
echo "house: format, file and function lengths kept (${#sources[@]} files)"

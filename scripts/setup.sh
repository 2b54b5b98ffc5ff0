#!/usr/bin/env bash
# Installs the Debian packages Malpro Ledger needs to build, test and run, when they are missing.
# Safe to run repeatedly: it does nothing when everything is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  librocksdb-dev librdkafka-dev kcat
  libboost-dev libboost-system-dev
  libsimdjson-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libtomlplusplus-dev libgoogle-perftools-dev
  libxml2-dev libxml2-utils python3 curl jq openssl
  # make test-asan / test-tsan (gcc's sanitizer runtimes) and make fuzz (clang with libFuzzer
  # and its sanitizer runtimes; llvm-symbolizer for the reports' stacks)
  libasan8 libubsan1 libtsan2 clang libclang-rt-dev llvm
  # make test's house check (scripts/check-house.sh)
  clang-format
  # the web console's tests in headless Chromium (tests/browser)
  chromium
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

# Node.js and npm for the console's Chart.js and its browser tests, unless they are there as
# commands already (a Node.js from elsewhere bundles npm and conflicts with Debian's npm).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

# The npm packages of the console (Chart.js, copied into console/vendor/ by its postinstall)
# and of its browser tests (playwright-core, which drives /usr/bin/chromium and downloads no
# browser), exactly as their package-lock.json pins them: `npm ci` when node_modules is missing
# or was installed from another lockfile (the lockfile's SHA-256 is kept beside it).
npm_ci_when_stale() {  # directory [file that must exist after install]
  local directory="$1" product="${2:-}" stamp lock_sha
  stamp="$directory/node_modules/.malpro-lock.sha256"
  lock_sha="$(sha256sum "$directory/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sha" ] \
      && { [ -z "$product" ] || [ -f "$directory/$product" ]; }; then
    return 0
  fi
  echo "setup: npm ci in $directory"
  (cd "$directory" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error \
    </dev/null)
  echo "$lock_sha" > "$stamp"
}
repository="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
npm_ci_when_stale "$repository/console" vendor/chart.umd.min.js
npm_ci_when_stale "$repository/tests/browser"

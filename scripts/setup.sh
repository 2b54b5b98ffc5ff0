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
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null

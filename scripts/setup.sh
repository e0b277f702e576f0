#!/usr/bin/env bash
# Installs what building and testing Samsa needs on Debian 12, as root. Idempotent: packages
# already present are not touched and apt-get runs only when something is missing.
#   scripts/setup.sh build   # compiler, CMake, libraries
#   scripts/setup.sh test    # build + real clients and tools the tests drive
set -euo pipefail

build_pkgs=(
  g++ cmake ninja-build ccache pkg-config python3
  libboost1.81-dev libfmt-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
  googletest libgtest-dev libgmock-dev librdkafka-dev
)
test_pkgs=(
  kcat
  python3-kafka python3-confluent-kafka
  python3-lz4 python3-snappy python3-xxhash python3-zstandard
)

want=("${build_pkgs[@]}")
if [ "${1:-build}" = "test" ]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

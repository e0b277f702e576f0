#!/usr/bin/env bash
# Storage engine benchmark: builds the release preset and runs bench/storage_bench, after
# measuring the disk with dd (conv=fdatasync) in the same directory for reference.
#   bench/storage.sh [DIR] [BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-${TMPDIR:-/tmp}/samsa-storage-bench}
bytes=${2:-1073741824}
cmake --preset release >/dev/null
cmake --build --preset release --target storage_bench
mkdir -p "$dir"
echo "dd reference (1 MiB blocks, conv=fdatasync):"
dd if=/dev/zero of="$dir/dd-probe" bs=1M count=$((bytes / 1048576)) conv=fdatasync 2>&1 | tail -1
rm -f "$dir/dd-probe"
./build/release/bench/storage_bench --dir "$dir" --bytes "$bytes" --json build/release/storage_bench.json

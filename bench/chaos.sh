#!/usr/bin/env bash
# The chaos harness's long mode (tests/chaos/README.md): ZooKeeper and 3 brokers of the release
# build in network namespaces, 500 faults of every kind (about an hour), idempotent acks=all
# producers at 450 records/s in all (about 1.5M acknowledged records), then the checker.
# Prints the seed, the schedule, the checker's summary line, the faults by kind and the longest
# unavailability per kind; the report also goes to build/bench/chaos.json.
#   bench/chaos.sh [--seed S] [--faults N] [--brokers N] [--kinds k1,k2] [--keep]   (as root)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "bench/chaos.sh: needs root (network namespaces, tmpfs mounts)" >&2
  exit 2
fi
cmake --preset release >/dev/null
cmake --build --preset release --target samsa-server samsa
mkdir -p build/bench
exec build/venv/bin/python tests/chaos/run.py --faults 500 \
  --server build/release/src/app/samsa-server --cli build/release/src/cli/samsa \
  --report build/bench/chaos.json "$@"

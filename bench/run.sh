#!/usr/bin/env bash
# The benchmark suite: builds the release preset, starts what it measures (samsa-server, Redis,
# iperf3) on 127.0.0.1 with data under the output directory, runs every measurement, prints a
# table and writes it as <out>/bench.json; everything it started is stopped on exit, failure or
# Ctrl-C. Missing tools are installed first (scripts/setup.sh bench). See docs/benchmarks.md.
#
#   bench/run.sh [--quick] [--out DIR] [--only PHASE,...] [--no-build]
#
# SAMSA_BENCH_CMAKE_ARGS adds arguments to the configure step (e.g. -DSAMSA_SKIP_MODULES=cli).
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

build=1
args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    -h|--help)
      sed -n '2,9p' "$self" | sed 's/^# \{0,1\}//'
      exit 0 ;;
    *) args+=("$a") ;;
  esac
done

# Installs what is missing (apt-get, only when something is): iperf3, redis-server, redis-tools
# and the build dependencies. Idempotent.
scripts/setup.sh bench
py=/usr/bin/python3
for c in "$py" iperf3 dd redis-server redis-cli redis-benchmark cmake ninja pkg-config; do
  if ! command -v "$c" >/dev/null 2>&1; then
    echo "bench: $c is missing; scripts/setup.sh bench should have installed it" >&2
    exit 1
  fi
done

if [ "$build" = 1 ]; then
  # shellcheck disable=SC2086
  cmake --preset release ${SAMSA_BENCH_CMAKE_ARGS:-} >/dev/null
  cmake --build --preset release --target bench_suite --parallel "${SAMSA_BENCH_JOBS:-$(nproc)}"
fi

PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$repo/bench${PYTHONPATH:+:$PYTHONPATH}" exec "$py" -m suite.main "${args[@]}"

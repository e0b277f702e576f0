#!/usr/bin/env bash
# Installs what is missing, builds the optimised preset (build/release) and runs the log demo:
# appends records to a partition log under ./data, reads them back, and reopens the log to
# show recovery. (Once the broker lands, this starts samsa-server on localhost:9092.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
cmake --preset release
cmake --build --preset release --target samsa-log-demo
exec ./build/release/src/app/samsa-log-demo "${1:-./data}"

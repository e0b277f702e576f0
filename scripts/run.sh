#!/usr/bin/env bash
# Installs what is missing, builds the optimised preset (build/release) and starts one broker:
# samsa-server in its embedded single-node mode, listening on localhost:9092 with its data under
# ./data. Arguments are passed to samsa-server (e.g. a server.properties path, --override k=v).
# Ctrl-C (SIGINT) or SIGTERM shuts it down cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
cmake --preset release
cmake --build --preset release --target samsa-server samsa
exec ./build/release/src/app/samsa-server "$@"

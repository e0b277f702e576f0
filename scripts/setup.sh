#!/usr/bin/env bash
# Installs what building and testing Samsa needs on Debian 12, as root. Idempotent: packages
# already present are not touched and apt-get runs only when something is missing.
#   scripts/setup.sh build   # compiler, CMake, libraries
#   scripts/setup.sh test    # build + real clients and tools the tests drive
#   scripts/setup.sh bench   # build + the tools bench/run.sh measures with and against
set -euo pipefail

build_pkgs=(
  g++ cmake ninja-build ccache pkg-config python3
  libboost1.81-dev libfmt-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
  googletest libgtest-dev libgmock-dev librdkafka-dev libzookeeper-mt-dev
)
test_pkgs=(
  kcat python3-venv maven openjdk-17-jdk-headless zookeeper iproute2 util-linux curl unzip
  python3-kafka python3-confluent-kafka
  python3-lz4 python3-snappy python3-xxhash python3-zstandard
)
# bench/run.sh: iperf3 (loopback bandwidth), Redis 7 with redis-benchmark (a peer), Java and
# Maven for Apache Kafka (the other peer, fetched below); dd, stat and /usr/bin/python3 come with
# coreutils and python3.
bench_pkgs=(
  iperf3 redis-server redis-tools coreutils openjdk-17-jdk-headless maven
)
# node and npm run the kafkajs interop test. A machine may already have them from another
# source (NodeSource's nodejs bundles npm): ask apt only for the commands that are missing.
if ! command -v node >/dev/null 2>&1; then test_pkgs+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then test_pkgs+=(npm); fi

want=("${build_pkgs[@]}")
if [ "${1:-build}" = "test" ]; then want+=("${test_pkgs[@]}"); fi
if [ "${1:-build}" = "bench" ]; then want+=("${bench_pkgs[@]}"); fi

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

# Jars a pom lists (nothing compiled): into build/<name>/lib, with build/m2 as the local Maven
# repository; fetched again when the pom changes.
fetch_jars() { # NAME POM
  local root stamp
  root="$(cd "$(dirname "$0")/.." && pwd)"
  stamp="$root/build/$1/.fetched"
  if [ ! -f "$stamp" ] || [ "$2" -nt "$stamp" ]; then
    echo "setup: fetching the jars of ${2#"$root"/} (Maven)"
    rm -rf "$root/build/$1/lib"
    mvn -q -B -Dstyle.color=never -f "$2" -Dmaven.repo.local="$root/build/m2" package
    touch "$stamp"
  fi
}

# Apache Kafka's broker for bench/run.sh's side-by-side phase (bench/apache-kafka/pom.xml, version
# pinned there).
if [ "${1:-build}" = "bench" ]; then
  fetch_jars apache-kafka "$(cd "$(dirname "$0")/.." && pwd)/bench/apache-kafka/pom.xml"
fi

# The kafkajs interop test package, pinned by tests/interop/js/package-lock.json. npm ci runs
# only when node_modules is missing or older than the lock file.
if [ "${1:-build}" = "test" ]; then
  js_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/interop/js"
  if [ ! -f "$js_dir/node_modules/.package-lock.json" ] || [ "$js_dir/package-lock.json" -nt "$js_dir/node_modules/.package-lock.json" ]; then
    echo "setup: npm ci in $js_dir"
    (cd "$js_dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

# Current Python clients from PyPI (tests/interop/requirements.txt, pinned) in a virtual
# environment under the build folder: build/venv, rebuilt when the requirements change.
if [ "${1:-build}" = "test" ]; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  venv="$root/build/venv"
  req="$root/tests/interop/requirements.txt"
  if [ ! -f "$venv/.requirements" ] || ! cmp -s "$req" "$venv/.requirements"; then
    echo "setup: Python clients from PyPI into $venv"
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$venv/.requirements"
  fi
fi

# The Java client interop program (tests/interop/java, Kafka's Java client pinned in its pom.xml)
# into build/java, its Maven repository build/m2; rebuilt when its sources change.
if [ "${1:-build}" = "test" ]; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  jar="$root/build/java/samsa-java-interop-1.jar"
  if [ ! -f "$jar" ] || [ -n "$(find "$root/tests/interop/java" -newer "$jar" -type f -print -quit)" ]; then
    echo "setup: building the Java client interop program (Maven)"
    mvn -q -B -Dstyle.color=never -f "$root/tests/interop/java/pom.xml" -Dmaven.repo.local="$root/build/m2" package
  fi
  # Apache Kafka's own command-line tools, and Kafka Connect with MirrorMaker 2
  # (tests/interop/kafka-tools, tests/interop/kafka-connect): their jars into build/<name>/lib,
  # fetched again when the pom changes.
  for name in kafka-tools kafka-connect; do
    fetch_jars "$name" "$root/tests/interop/$name/pom.xml"
  done

  # The Go clients' interop program (tests/interop/go; modules pinned in go.mod and go.sum, from
  # the Go module proxy) into build/go. go.mod asks for a newer Go than Debian's, so when the
  # machine has none that new, the toolchain itself comes from the module proxy too
  # (golang.org/toolchain, pinned here) into build/go-toolchain.
  go_toolchain=go1.26.8
  want=$(awk '/^go /{print $2}' "$root/tests/interop/go/go.mod")
  gobin=$(command -v go || true)
  if [ -z "$gobin" ] && [ -x /usr/local/go/bin/go ]; then gobin=/usr/local/go/bin/go; fi
  have=""
  if [ -n "$gobin" ]; then have=$(GOTOOLCHAIN=local "$gobin" env GOVERSION 2>/dev/null | sed 's/^go//'); fi
  if [ -z "$have" ] || ! printf '%s\n%s\n' "$want" "$have" | sort -V -C; then
    tc="$root/build/go-toolchain"
    if [ ! -x "$tc/bin/go" ]; then
      arch=$(dpkg --print-architecture)
      echo "setup: Go $go_toolchain from the Go module proxy into $tc (this machine has ${have:-no Go}; go.mod needs $want)"
      tmp=$(mktemp -d)
      curl -fsSL -o "$tmp/go.zip" "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-$go_toolchain.linux-$arch.zip"
      unzip -q "$tmp/go.zip" -d "$tmp"
      rm -rf "$tc"
      mv "$tmp/golang.org/toolchain@v0.0.1-$go_toolchain.linux-$arch" "$tc"
      chmod +x "$tc/bin/"* "$tc/pkg/tool/"*/* 2>/dev/null || true
      rm -rf "$tmp"
    fi
    gobin="$tc/bin/go"
  fi
  gobuilt="$root/build/go/samsa-go-interop"
  if [ ! -x "$gobuilt" ] || [ -n "$(find "$root/tests/interop/go" -newer "$gobuilt" -type f -print -quit)" ]; then
    echo "setup: building the Go clients' interop program"
    (cd "$root/tests/interop/go" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly "$gobin" build -o "$gobuilt" .)
  fi
fi

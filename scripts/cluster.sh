#!/usr/bin/env bash
# A local cluster on loopback: one Apache ZooKeeper (Debian's zookeeper package) and N
# samsa-server brokers (default 3) coordinated by it, their data under one folder. Prints the
# bootstrap list once every broker answers and knows all of them live; Ctrl-C (SIGINT) or SIGTERM stops
# the brokers (cleanly), then ZooKeeper.
#
#   scripts/cluster.sh [--brokers N] [--dir DIR] [--port FIRST_BROKER_PORT] [--zk-port PORT] [--no-build]
#
# Defaults: 3 brokers on 127.0.0.1:9092.., ZooKeeper on 127.0.0.1:2181, data in ./cluster-data
# (zookeeper/, broker-<id>/ and their logs). Brokers get broker.id 1..N and the chroot /samsa.
# Without --no-build it installs what is missing (scripts/setup.sh test: the ZooKeeper server)
# and builds the release preset; SAMSA_SERVER overrides the broker binary.
set -euo pipefail
cd "$(dirname "$0")/.."

brokers=3
dir=./cluster-data
port=9092
zk_port=2181
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --brokers) brokers="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --zk-port) zk_port="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$brokers" in ''|*[!0-9]*) echo "cluster.sh: --brokers needs a number" >&2; exit 2 ;; esac

if [ "$build" = 1 ]; then
  scripts/setup.sh test >/dev/null
  cmake --preset release >/dev/null
  cmake --build --preset release --target samsa-server samsa
fi
server="${SAMSA_SERVER:-./build/release/src/app/samsa-server}"
[ -x "$server" ] || { echo "cluster.sh: $server is missing (build it, or drop --no-build)" >&2; exit 1; }
[ -r /usr/share/java/zookeeper.jar ] || { echo "cluster.sh: /usr/share/java/zookeeper.jar is missing: scripts/setup.sh test installs Debian's zookeeper" >&2; exit 1; }
command -v java >/dev/null || { echo "cluster.sh: java is missing: scripts/setup.sh test installs it" >&2; exit 1; }

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
pids=()
zk_pid=""

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_all() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$zk_pid" ]; then kill -TERM "$zk_pid" 2>/dev/null || true; wait "$zk_pid" 2>/dev/null || true; fi
  echo "cluster stopped"
}
trap 'stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

began=$(date +%s.%N)
mkdir -p "$dir/zookeeper"
java -Xmx256m -Dzookeeper.admin.enableServer=false -cp /usr/share/java/zookeeper.jar \
  org.apache.zookeeper.server.ZooKeeperServerMain "$zk_port" "$dir/zookeeper" >"$dir/zookeeper.log" 2>&1 &
zk_pid=$!
for _ in $(seq 1 600); do
  port_open "$zk_port" && break
  kill -0 "$zk_pid" 2>/dev/null || { echo "cluster.sh: ZooKeeper exited; see $dir/zookeeper.log" >&2; exit 1; }
  sleep 0.1
done
port_open "$zk_port" || { echo "cluster.sh: ZooKeeper does not accept on port $zk_port" >&2; exit 1; }

bootstrap=""
for i in $(seq 1 "$brokers"); do
  p=$((port + i - 1))
  "$server" --override "listeners=PLAINTEXT://127.0.0.1:$p" --override "log.dirs=$dir/broker-$i" \
    --override "broker.id=$i" --override "zookeeper.connect=127.0.0.1:$zk_port/samsa" \
    >"$dir/broker-$i.log" 2>&1 &
  pids+=($!)
  bootstrap="${bootstrap:+$bootstrap,}127.0.0.1:$p"
done
# Ready: every broker accepts and has learnt from the controller that all of them are live.
all_ids=$(seq -s, 1 "$brokers")
for i in $(seq 1 "$brokers"); do
  p=$((port + i - 1))
  for _ in $(seq 1 600); do
    grep -q "samsa-server started" "$dir/broker-$i.log" 2>/dev/null && port_open "$p" &&
      grep -q "live brokers: $all_ids\$" "$dir/broker-$i.log" && break
    kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { echo "cluster.sh: broker $i exited; see $dir/broker-$i.log" >&2; tail -3 "$dir/broker-$i.log" >&2; exit 1; }
    sleep 0.1
  done
done
took=$(echo "$(date +%s.%N) - $began" | bc)
echo "cluster of $brokers broker(s) ready in ${took} s (data and logs in $dir)"
echo "bootstrap: $bootstrap"
echo "zookeeper: 127.0.0.1:$zk_port/samsa"
echo "Ctrl-C stops it."
wait "${pids[@]}"

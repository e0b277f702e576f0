#!/usr/bin/python3
"""A ZooKeeper cluster of three samsa-server brokers on loopback, timed: what the cluster issue
asks to quote. Not a test: it prints numbers.

  1. scripts/cluster.sh (--no-build) to a usable cluster: every broker reports the three brokers
     and one controller, and a topic created through one broker is produced to and consumed
     from (kcat) through the others.
  2. Topic creation on 3 brokers, replication factor 3: 1 partition and N partitions (default
     1000): CreateTopics answered (confluent-kafka's admin client; the broker answers once its own
     metadata shows the topic), then every broker's Metadata showing a leader for each partition.
  3. Controller failover: kill -9 of the controller to every surviving broker naming the new one,
     printed with its ratio to zookeeper.session.timeout.ms (the floor: ZooKeeper only expires
     the dead session's /controller after it).

Usage: /usr/bin/python3 bench/zk_cluster.py [path/to/samsa-server] [--partitions N] [--rounds R]
       (or SAMSA_SERVER=...; default the release build, build/release/src/app/samsa-server; the
       CLI is taken from the same build unless SAMSA_CLI names one).
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))

import harness  # noqa: E402
from zk_cluster import ZooKeeper, cluster_overrides  # noqa: E402

SESSION_TIMEOUT_MS = 6000


def kcat():
    return harness.require_program("kcat", "kcat")


def metadata(bootstrap):
    out = subprocess.run([kcat(), "-L", "-J", "-b", bootstrap, "-m", "10"], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)


def view(bootstrap):
    md = metadata(bootstrap)
    if md is None:
        return None
    return md["originating_broker"]["id"], md.get("controllerid"), sorted(b["id"] for b in md["brokers"]), md


def wait(what, predicate, timeout=120, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = predicate()
            if r:
                return r
        except Exception:  # a broker not answering yet
            pass
        time.sleep(interval)
    raise SystemExit(f"zk_cluster bench: timed out waiting for {what}")


def free_run(n):
    for _ in range(200):
        base = random.randint(20000, 60000)
        ok = True
        for i in range(n):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", base + i))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise SystemExit("zk_cluster bench: no run of free ports")


def usable(boots, topic):
    """Every broker reports 3 brokers and one controller; a topic made through the first is
    produced to through the second and read back through the third."""
    views = [view(b) for b in boots]
    if any(v is None or v[2] != [1, 2, 3] for v in views) or len({v[1] for v in views}) != 1:
        return False
    made = subprocess.run([harness.samsa_cli(), "topics", "--create", "--if-not-exists", "--bootstrap-server", boots[0],
                           "--topic", topic, "--partitions", "3", "--replication-factor", "1"],
                          capture_output=True, text=True, timeout=30)
    if made.returncode != 0:
        return False
    prod = subprocess.run([kcat(), "-P", "-b", boots[1], "-t", topic, "-X", "acks=all"], input="a\nb\nc\n",
                          capture_output=True, text=True, timeout=30)
    if prod.returncode != 0:
        return False
    cons = subprocess.run([kcat(), "-C", "-b", boots[2], "-t", topic, "-o", "beginning", "-e", "-q"],
                          capture_output=True, text=True, timeout=30)
    return cons.returncode == 0 and sorted(cons.stdout.split()) == ["a", "b", "c"]


def bench_cluster_script(server):
    tmp = tempfile.mkdtemp(prefix="samsa-bench-cluster-")
    port, zk_port = free_run(3), free_run(1)
    began = time.monotonic()
    proc = subprocess.Popen([os.path.join(ROOT, "scripts", "cluster.sh"), "--no-build", "--dir", tmp, "--port", str(port),
                             "--zk-port", str(zk_port)], env={**os.environ, "SAMSA_SERVER": server},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        ready = None
        for line in proc.stdout:
            if "ready in" in line:
                ready = time.monotonic() - began
                break
        if ready is None:
            raise SystemExit("zk_cluster bench: scripts/cluster.sh did not get ready")
        boots = [f"127.0.0.1:{port + i}" for i in range(3)]
        wait("a usable cluster", lambda: usable(boots, "bench-usable"))
        took = time.monotonic() - began
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        subprocess.run(["rm", "-rf", tmp])
    print(f"scripts/cluster.sh: printed ready after {ready:.2f} s; usable (3 brokers, 1 controller everywhere, "
          f"a topic created, produced and consumed through three different brokers) after {took:.2f} s", flush=True)


def create_and_wait(admin, boots, name, partitions):
    from confluent_kafka.admin import NewTopic
    began = time.monotonic()
    for _, fut in admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=3)],
                                      operation_timeout=120, request_timeout=120).items():
        fut.result(timeout=180)
    answered = time.monotonic() - began

    def led_everywhere():
        for b in boots:
            md = metadata(b)
            t = next((t for t in md["topics"] if t["topic"] == name and not t.get("error")), None) if md else None
            if t is None or len(t["partitions"]) != partitions or any(p["leader"] < 0 for p in t["partitions"]):
                return False
        return True
    wait(f"{name} led on every broker", led_everywhere, timeout=300, interval=0.05)
    return answered, time.monotonic() - began


def bench_creation_and_failover(server, partitions, rounds, create=True, failover=True):
    from confluent_kafka.admin import AdminClient
    zk = ZooKeeper().start()
    brokers = {}
    try:
        for i in (1, 2, 3):
            b = harness.Broker(cluster_overrides(zk.connect + "/samsa", i,
                                                 {"zookeeper.session.timeout.ms": str(SESSION_TIMEOUT_MS)}),
                               name=f"bench-zk-{i}")
            b.binary = server
            b.nofile = (65536, 65536) if resource_ok() else None
            b.start()
            brokers[i] = b
        boots = [brokers[i].bootstrap for i in (1, 2, 3)]
        wait("three brokers", lambda: all(view(b)[2] == [1, 2, 3] for b in boots))
        admin = AdminClient({"bootstrap.servers": boots[0]})
        for n in (1, partitions) if create else ():
            for r in range(rounds):
                answered, led = create_and_wait(admin, boots, f"bench-create-{n}-{r}", n)
                print(f"CreateTopics {n} partition(s) x 3 replicas on 3 brokers (round {r + 1}): answered in "
                      f"{answered:.3f} s, led on every broker after {led:.3f} s", flush=True)
        for r in range(rounds if failover else 0):
            live = {i: b for i, b in brokers.items() if b.alive()}
            controller = view(next(iter(live.values())).bootstrap)[1]
            began = time.monotonic()
            brokers[controller].kill()
            rest = [b.bootstrap for i, b in live.items() if i != controller]

            def moved():
                vs = [view(b) for b in rest]
                cs = {v[1] for v in vs}
                return len(cs) == 1 and next(iter(cs)) not in (controller, -1, None)
            wait("a new controller", moved, timeout=60)
            took = time.monotonic() - began
            print(f"controller failover (kill -9 of broker {controller}, round {r + 1}): {took:.2f} s = "
                  f"{took * 1000 / SESSION_TIMEOUT_MS:.2f} x zookeeper.session.timeout.ms ({SESSION_TIMEOUT_MS} ms)",
                  flush=True)
            brokers[controller].restart()
            wait("three brokers again", lambda: all(view(b)[2] == [1, 2, 3] for b in boots))
    finally:
        for b in brokers.values():
            b.close()
        zk.close()


def resource_ok():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return hard >= 65536


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("server", nargs="?", default=os.environ.get("SAMSA_SERVER",
                                                                os.path.join(ROOT, "build/release/src/app/samsa-server")))
    ap.add_argument("--partitions", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", choices=["script", "create", "failover"], help="run one part only")
    args = ap.parse_args()
    server = os.path.abspath(args.server)
    if not os.access(server, os.X_OK):
        raise SystemExit(f"zk_cluster bench: {server} is missing (cmake --build --preset release)")
    os.environ["SAMSA_SERVER"] = server
    # The CLI of the same build (src/app/samsa-server -> src/cli/samsa), unless SAMSA_CLI says.
    os.environ.setdefault("SAMSA_CLI", os.path.join(os.path.dirname(os.path.dirname(server)), "cli", "samsa"))
    harness.require_module("confluent_kafka", "python3-confluent-kafka")
    if args.only in (None, "script"):
        bench_cluster_script(server)
    if args.only != "script":
        bench_creation_and_failover(server, args.partitions, args.rounds,
                                    create=args.only in (None, "create"), failover=args.only in (None, "failover"))


if __name__ == "__main__":
    main()

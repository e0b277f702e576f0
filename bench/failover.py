#!/usr/bin/python3
"""Failover and cluster operations on three samsa-server brokers and a real ZooKeeper, timed:
the numbers the failover issue asks to quote. Not a test: it prints numbers.

  1. Leader kills: kill -9 of the leader of a partition (replication factor 3,
     min.insync.replicas 2) while an idempotent acks=all producer (librdkafka) writes to it
     every few milliseconds; the time from the kill to the first record produced after it being
     acknowledged (by the new leader), over --kills rounds, as p50 / max and as a ratio to
     zookeeper.session.timeout.ms (the floor: the controller only hears of the death when the
     session expires). The killed broker comes back and catches up between rounds.
  2. Rolling restart: each broker in turn SIGTERMed (controlled shutdown) and restarted under
     the same producer on six partitions; per broker, the longest gap between two
     acknowledgements and the slowest acknowledgement while it restarts.
  3. Reassignment throughput: a partition of --mb MiB on one broker copied to a second one
     (samsa reassign-partitions --execute, then --verify until done), unthrottled and with
     --throttle, in MB/s moved.

Usage: /usr/bin/python3 bench/failover.py [path/to/samsa-server] [--kills N] [--mb M]
       [--throttle BYTES_PER_S] [--only kills|rolling|reassign]
       (default the release build, build/release/src/app/samsa-server; its CLI next to it).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))

import harness  # noqa: E402
from zk_cluster import ZooKeeper, cluster_overrides  # noqa: E402

SESSION_TIMEOUT_MS = 6000


def kcat_view(bootstrap, topic):
    kcat = harness.require_program("kcat", "kcat")
    out = subprocess.run([kcat, "-L", "-J", "-b", bootstrap, "-m", "5"], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        return None
    for t in json.loads(out.stdout)["topics"]:
        if t["topic"] == topic and not t.get("error"):
            return {p["partition"]: (p["leader"], [r["id"] for r in p["replicas"]], [r["id"] for r in p["isrs"]])
                    for p in t["partitions"]}
    return None


def wait(what, predicate, timeout=120, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = predicate()
            if r:
                return r
        except Exception:
            pass
        time.sleep(interval)
    raise SystemExit(f"failover bench: timed out waiting for {what}")


class Load:
    """An idempotent acks=all producer writing one small record every `every` seconds over the
    topic's partitions; remembers each record's send and acknowledgement times."""

    def __init__(self, boot, topic, partitions, every=0.005):
        from confluent_kafka import Producer
        self.p = Producer({"bootstrap.servers": boot, "acks": "all", "enable.idempotence": True, "linger.ms": 0,
                           "message.timeout.ms": 120000, "retry.backoff.ms": 50})
        self.topic, self.partitions, self.every = topic, partitions, every
        self.sent = []  # (send time, partition)
        self.acks = []  # (ack time, send time, partition)
        self.failed = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        i = 0
        while not self.stop.is_set():
            now = time.monotonic()
            part = i % self.partitions

            def done(err, msg, sent=now, part=part):
                with self.lock:
                    if err:
                        self.failed += 1
                    else:
                        self.acks.append((time.monotonic(), sent, part))
            self.p.produce(self.topic, b"x" * 100, partition=part, on_delivery=done)
            i += 1
            self.p.poll(self.every)
        self.p.flush(120)

    def close(self):
        self.stop.set()
        self.thread.join(180)


def start_cluster(server, extra=None):
    zk = ZooKeeper().start()
    brokers = {}
    for i in (1, 2, 3):
        o = {"zookeeper.session.timeout.ms": str(SESSION_TIMEOUT_MS), "auto.leader.rebalance.enable": "false",
             "controlled.shutdown.retry.backoff.ms": "500"}
        o.update(extra or {})
        b = harness.Broker(cluster_overrides(zk.connect + "/samsa", i, o), name=f"bench-failover-{i}")
        b.binary = server
        b.start()
        brokers[i] = b
    return zk, brokers


def create(boot, topic, partitions, rf, assignment=None, config=None):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": boot})
    t = NewTopic(topic, partitions, replica_assignment=assignment, config=config or {}) if assignment else \
        NewTopic(topic, partitions, rf, config=config or {})
    admin.create_topics([t], operation_timeout=60, request_timeout=60)[topic].result(timeout=90)


def full_isr(boot, topic, rf):
    v = kcat_view(boot, topic)
    return v and all(x[0] >= 0 and len(x[2]) == rf for x in v.values()) and v


def bench_kills(zk, brokers, kills):
    boots = [b.bootstrap for b in brokers.values()]
    all_boot = ",".join(boots)
    create(all_boot, "kills", 1, 3, config={"min.insync.replicas": "2"})
    wait("three in-sync replicas", lambda: full_isr(boots[0], "kills", 3))
    load = Load(all_boot, "kills", 1)
    times = []
    try:
        for r in range(kills):
            live = next(b for b in brokers.values() if b.alive())
            leader = kcat_view(live.bootstrap, "kills")[0][0]
            time.sleep(0.5)
            killed_at = time.monotonic()
            brokers[leader].kill()

            def acked_after():
                with load.lock:
                    return next((a for a, s, _ in load.acks if s > killed_at), None)
            first = wait("an acknowledgement after the kill", acked_after, timeout=120, interval=0.01)
            took = first - killed_at
            times.append(took)
            print(f"leader kill {r + 1}: broker {leader} killed; first acks=all write acknowledged after {took:.2f} s "
                  f"({took * 1000 / SESSION_TIMEOUT_MS:.2f} x zookeeper.session.timeout.ms)", flush=True)
            brokers[leader].restart()
            others = [b.bootstrap for i, b in brokers.items() if i != leader]
            wait("the killed broker back in sync", lambda: full_isr(others[0], "kills", 3), timeout=120)
    finally:
        load.close()
    times.sort()
    print(f"leader kills: {len(times)} rounds, failover (kill -9 to first acks=all write acknowledged) p50 "
          f"{statistics.median(times):.2f} s, max {times[-1]:.2f} s, min {times[0]:.2f} s; zookeeper.session.timeout.ms "
          f"{SESSION_TIMEOUT_MS} ms (p50 = {statistics.median(times) * 1000 / SESSION_TIMEOUT_MS:.2f} x); "
          f"{load.failed} deliveries failed", flush=True)


def bench_rolling(zk, brokers):
    boots = [b.bootstrap for b in brokers.values()]
    all_boot = ",".join(boots)
    create(all_boot, "rolling", 6, 3, config={"min.insync.replicas": "2"})
    wait("three in-sync replicas", lambda: full_isr(boots[0], "rolling", 3))
    load = Load(all_boot, "rolling", 6, every=0.002)
    try:
        time.sleep(2)
        for i, b in brokers.items():
            began = time.monotonic()
            stop_s = b.stop(timeout=30)
            b.restart()
            others = [x.bootstrap for j, x in brokers.items() if j != i]
            wait("the restarted broker back in sync", lambda: full_isr(others[0], "rolling", 3), timeout=120)
            ended = time.monotonic()
            time.sleep(1)
            with load.lock:
                window = sorted((a, s) for a, s, _ in load.acks if began <= s <= ended)
            gaps = [window[k + 1][0] - window[k][0] for k in range(len(window) - 1)]
            slowest = max((a - s for a, s in window), default=0)
            print(f"rolling restart, broker {i}: SIGTERM to exit {stop_s:.2f} s, back in sync after "
                  f"{ended - began:.2f} s; longest gap between acknowledgements {max(gaps, default=0) * 1000:.0f} ms, "
                  f"slowest acknowledgement {slowest * 1000:.0f} ms ({len(window)} records)", flush=True)
    finally:
        load.close()
    print(f"rolling restart: {load.failed} deliveries failed", flush=True)


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def bench_reassign(zk, brokers, mb, throttle):
    from confluent_kafka import Producer
    boots = [b.bootstrap for b in brokers.values()]
    all_boot = ",".join(boots)
    cli = harness.samsa_cli()
    tmp = tempfile.mkdtemp(prefix="samsa-bench-reassign-")
    for name, target, rate in (("bulk", [1, 2], None), ("bulk-throttled", [1, 3], throttle)):
        create(all_boot, name, 1, 1, assignment=[[1]])
        wait(f"{name} led", lambda: full_isr(boots[0], name, 1))
        p = Producer({"bootstrap.servers": all_boot, "acks": "1", "linger.ms": 20, "batch.size": 1 << 20,
                      "compression.type": "none"})
        value = os.urandom(64 * 1024)
        for _ in range(mb * 16):
            while True:
                try:
                    p.produce(name, value, partition=0)
                    break
                except BufferError:
                    p.poll(0.05)
        p.flush(300)
        size = dir_bytes(os.path.join(brokers[1].data_dir, f"{name}-0"))
        plan = os.path.join(tmp, f"{name}.json")
        with open(plan, "w") as f:
            json.dump({"version": 1, "partitions": [{"topic": name, "partition": 0, "replicas": target}]}, f)
        args = [cli, "reassign-partitions", "--bootstrap-server", all_boot, "--reassignment-json-file", plan]
        began = time.monotonic()
        subprocess.run(args + ["--execute"] + (["--throttle", str(rate)] if rate else []), check=True,
                       capture_output=True, timeout=60)
        wait("the reassignment", lambda: subprocess.run(args + ["--verify"], capture_output=True, timeout=60).returncode == 0,
             timeout=3600, interval=0.1)
        took = time.monotonic() - began
        what = f"throttled to {rate / 1e6:.1f} MB/s" if rate else "unthrottled"
        print(f"reassignment {what}: {size / 1e6:.1f} MB copied to a new replica in {took:.2f} s = "
              f"{size / 1e6 / took:.1f} MB/s" + (f" ({size / took / rate:.2f} x the throttle)" if rate else ""), flush=True)
    subprocess.run(["rm", "-rf", tmp])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("server", nargs="?", default=os.environ.get("SAMSA_SERVER",
                                                                os.path.join(ROOT, "build/release/src/app/samsa-server")))
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--throttle", type=int, default=20_000_000)
    ap.add_argument("--only", choices=["kills", "rolling", "reassign"])
    args = ap.parse_args()
    server = os.path.abspath(args.server)
    if not os.access(server, os.X_OK):
        raise SystemExit(f"failover bench: {server} is missing (cmake --build --preset release)")
    os.environ["SAMSA_SERVER"] = server
    os.environ.setdefault("SAMSA_CLI", os.path.join(os.path.dirname(os.path.dirname(server)), "cli", "samsa"))
    harness.require_module("confluent_kafka", "python3-confluent-kafka")
    zk, brokers = start_cluster(server)
    try:
        kcat = harness.require_program("kcat", "kcat")

        def three(b):
            out = subprocess.run([kcat, "-L", "-J", "-b", b.bootstrap, "-m", "5"], capture_output=True, text=True, timeout=30)
            return out.returncode == 0 and len(json.loads(out.stdout)["brokers"]) == 3
        wait("three brokers", lambda: all(three(b) for b in brokers.values()))
        time.sleep(2)
        if args.only in (None, "kills"):
            bench_kills(zk, brokers, args.kills)
        if args.only in (None, "rolling"):
            bench_rolling(zk, brokers)
        if args.only in (None, "reassign"):
            bench_reassign(zk, brokers, args.mb, args.throttle)
    finally:
        for b in brokers.values():
            b.close()
        zk.close()


if __name__ == "__main__":
    main()

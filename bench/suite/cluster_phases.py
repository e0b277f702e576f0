"""Replication on three local brokers coordinated by a real ZooKeeper, each figure next to the
single-broker one from the same phase: produce 100 B and 1 KiB records with replication factor 3
and acks=all against one broker with acks=1 (and acks=all), end-to-end latency at 20k msg/s with
RF 3 acks=all, and the rate at which a follower restarted far behind catches up."""

import os
import shutil
import sys
import time

from .kafka_phases import SIZES, broker_latency, create_topics, produce
from .procs import bench_error, broker, log, run_tool

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(_HERE)), "tests", "interop"))

# As many records as the throughput phase (5M x 100 B, 1M x 1 KiB in full runs): shorter runs
# measure mostly the producer's final flush.
SHARE = 1
LATENCY_RATE = 20000


def _dir_log_bytes(path):
    total = 0
    try:
        for f in os.listdir(path):
            if f.endswith(".log"):
                total += os.path.getsize(os.path.join(path, f))
    except FileNotFoundError:
        pass
    return total


class _cluster:
    """ZooKeeper (Debian's package, as the interop tests run it) and three samsa-server brokers."""

    def __init__(self, ctx):
        from zk_cluster import ZooKeeper  # tests/interop: the same ZooKeeper the tests start
        self.ctx = ctx
        ctx.top_up()
        self.zk = ZooKeeper().start()
        self.brokers = {}
        try:
            for i in (1, 2, 3):
                d = os.path.join(ctx.data_root, f"cluster-{i}")
                shutil.rmtree(d, ignore_errors=True)
                b = broker(ctx.procs, os.path.join(ctx.build_dir, "src", "app", "samsa-server"), d,
                           os.path.join(ctx.log_dir, f"broker-cluster-{i}.log"),
                           [f"zookeeper.connect={self.zk.connect}/samsa", f"broker.id={i}",
                            "zookeeper.session.timeout.ms=6000", "group.initial.rebalance.delay.ms=0"])
                b.start()
                self.brokers[i] = b
        except Exception:
            self.close()
            raise

    @property
    def bootstrap(self):
        return ",".join(b.address for b in self.brokers.values() if b.proc is not None and b.proc.poll() is None)

    def close(self):
        for b in self.brokers.values():
            if b.proc is not None and b.proc.poll() is None:
                b.stop()
            shutil.rmtree(b.data_dir, ignore_errors=True)
        self.zk.close()


def replication(ctx):
    """The cluster first (latency before anything has dirtied the page cache), then one broker."""
    out = {"single": {}, "rf3": {}, "latency": None, "catch_up": None}
    counts = record_counts(ctx)

    c = _cluster(ctx)
    try:
        first = c.brokers[1]
        argv = [ctx.tool("topics_bench"), "--brokers", first.address, "--partitions", "1",
                "--replication-factor", "3"]
        names = [f"rf3-{s}" for s in SIZES] + ["rf3-latency", "rf3-catchup"]
        for attempt in range(40):
            # INVALID_REPLICATION_FACTOR until the first broker has heard of the other two.
            try:
                run_tool(argv + names, timeout=120, what="create RF 3 topics")
                break
            except bench_error:
                if attempt == 39:
                    raise
                time.sleep(0.5)
        time.sleep(1)  # every broker hears of the new leaders
        out["latency"], out["rf3"] = rf3_runs(ctx, c.bootstrap, "replication: ")
        out["catch_up"] = ctx.attempt("follower catch-up", lambda: _catch_up(ctx, c))
    finally:
        c.close()

    os.sync()
    b = ctx.fresh_broker("replication-single")
    try:
        names = [f"single-{s}-{a}" for s in SIZES for a in ("1", "all")]
        create_topics(ctx, b, 1, names)
        for size in SIZES:
            for acks in ("1", "all"):
                log(f"replication: single broker, {counts[size]:,} x {size} B, acks={acks}, 1 partition")
                out["single"][f"{size}_acks{acks}"] = ctx.attempt(
                    f"single {size} acks={acks}",
                    lambda: produce(ctx, b, f"single-{size}-{acks}", size, acks, 1, count=counts[size]))
    finally:
        ctx.retire_broker(b)
    return out


def record_counts(ctx):
    """Records per produce run by size: as many as the throughput phase's."""
    return {100: ctx.profile["count_100"] // SHARE, 1024: ctx.profile["count_1k"] // SHARE}


def rf3_runs(ctx, bootstrap, who):
    """On a three-broker cluster with topics rf3-latency and rf3-<size> (1 partition, RF 3): the
    latency at LATENCY_RATE with acks=all, then each size's produce run with acks=all. Returns
    (latency, {"<size>_acksall": produce result})."""
    log(f"{who}latency, {LATENCY_RATE:,} msg/s of 1 KiB, RF 3 acks=all, {ctx.profile['latency_s']} s")
    lat = broker_latency(ctx, bootstrap, "rf3-latency", LATENCY_RATE, f"{who}rf3 latency", sets=("acks=all",))
    counts = record_counts(ctx)
    runs = {}
    for size in SIZES:
        log(f"{who}3 brokers, RF 3, {counts[size]:,} x {size} B, acks=all, 1 partition")
        runs[f"{size}_acksall"] = ctx.attempt(
            f"{who}rf3 {size} acks=all", lambda: produce(ctx, _addr(bootstrap), f"rf3-{size}", size, "all", 1,
                                                         count=counts[size]))
    return lat, runs


class _addr:
    """What produce() needs of a broker: its bootstrap address."""

    def __init__(self, address):
        self.address = address


def _catch_up(ctx, c):
    """A follower stops, the leader takes `catchup_bytes` of 1 KiB records (acks=1), the follower
    restarts: MB/s from its start until its log holds as many bytes as the leader's."""
    total = ctx.profile["recovery_bytes"]  # 1 GiB in full runs, 128 MiB quick
    behind = c.brokers[3]
    behind.stop()
    time.sleep(1)
    count = total // 1024
    log(f"replication: follower catch-up: broker 3 stopped, {count:,} x 1 KiB produced")
    r = produce(ctx, _addr(c.bootstrap), "rf3-catchup", 1024, "1", 1, count=count)
    sizes = {i: _dir_log_bytes(os.path.join(b.data_dir, "rf3-catchup-0")) for i, b in c.brokers.items()}
    target = max(sizes[1], sizes[2])
    missing = target - sizes[3]
    t0 = time.monotonic()
    behind.start()
    deadline = t0 + 600
    while _dir_log_bytes(os.path.join(behind.data_dir, "rf3-catchup-0")) < target:
        if time.monotonic() > deadline:
            raise bench_error("the restarted follower did not catch up within 600 s")
        time.sleep(0.05)
    secs = time.monotonic() - t0
    return {"bytes_behind": missing, "seconds": secs, "mb_per_s": missing / secs / 1e6,
            "produce_mb_per_s": r.get("mb_per_s")}

"""Client-facing measurements against samsa-server: produce and consume throughput, the
sustained 60 s produce run, and end-to-end latency at fixed rates."""

import os
import shutil

from .procs import bench_error, log, run_tool

SIZES = (100, 1024)
LATENCY_RATES = (1000, 20000, 100000)


def run_key(size, acks, partitions):
    return f"{size}B_acks{acks}_{partitions}p"


def create_topics(ctx, b, partitions, names, configs=()):
    argv = [ctx.tool("topics_bench"), "--brokers", b.address, "--partitions", str(partitions)]
    for c in configs:
        argv += ["--config", c]
    return run_tool(argv + list(names), timeout=300, what=f"create topics {' '.join(names)}")


TXN_RECORDS = 100


def produce(ctx, b, topic, size, acks, partitions, count=None, duration=None, idempotent=False, txn_records=0):
    argv = [ctx.tool("produce_bench"), "--brokers", b.address, "--topic", topic, "--size", str(size),
            "--acks", acks, "--partitions", str(partitions)]
    if idempotent:
        argv += ["--set", "enable.idempotence=true"]
    if txn_records:
        argv += ["--txn-records", str(txn_records)]
    argv += ["--count", str(count)] if count else ["--duration", str(duration)]
    limit = 900 if count else duration + 300
    return run_tool(argv, timeout=limit, what=f"produce {topic}")


def consume(ctx, b, topic, partitions, expect, timeout=600):
    argv = [ctx.tool("consume_bench"), "--brokers", b.address, "--topic", topic, "--partitions", str(partitions),
            "--expect", str(expect), "--timeout", str(timeout)]
    return run_tool(argv, timeout=timeout + 100, what=f"consume {topic}")


def throughput(ctx):
    """Produce 100 B and 1 KiB records, acks=1 and acks=all, to 1 and 16 partitions, and with an
    idempotent producer (acks=all, 1 partition; key "<size>B_acksidem_1p") and a transactional one
    committing every 100 records (key "<size>B_ackstxn_1p", with commit latencies) right after
    plain acks=all; then read the acks=1 topics back with one consumer while they are still in
    the page cache."""
    out = {"produce": {}, "consume": {}}
    b = ctx.fresh_broker("throughput")
    try:
        for parts in (1, 16):
            names = [f"t-{run_key(s, a, parts)}" for s in SIZES for a in ("1", "all")]
            if parts == 1:
                names += [f"t-{run_key(s, 'idem', 1)}" for s in SIZES]
                names += [f"t-{run_key(s, 'txn', 1)}" for s in SIZES]
            create_topics(ctx, b, parts, names)
        for size in SIZES:
            count = ctx.profile["count_100"] if size == 100 else ctx.profile["count_1k"]
            for acks in ("1", "all"):
                for parts in (1, 16):
                    key = run_key(size, acks, parts)
                    log(f"produce: {count:,} x {size} B, acks={acks}, {parts} partition(s)")
                    out["produce"][key] = ctx.attempt(
                        f"produce {key}", lambda: produce(ctx, b, f"t-{key}", size, acks, parts, count=count))
                    if acks == "all" and parts == 1:
                        key = run_key(size, "idem", 1)
                        log(f"produce: {count:,} x {size} B, idempotent (acks=all), 1 partition")
                        out["produce"][key] = ctx.attempt(
                            f"produce {key}",
                            lambda: produce(ctx, b, f"t-{key}", size, "all", 1, count=count, idempotent=True))
                        key = run_key(size, "txn", 1)
                        # A commit every 100 records: far more transactions than throughput, so
                        # a tenth of the records.
                        txn_count = max(count // 10, TXN_RECORDS)
                        log(f"produce: {txn_count:,} x {size} B, transactional ({TXN_RECORDS} per commit), 1 partition")
                        out["produce"][key] = ctx.attempt(
                            f"produce {key}",
                            lambda: produce(ctx, b, f"t-{key}", size, "all", 1, count=txn_count,
                                            txn_records=TXN_RECORDS))
        for size in SIZES:
            for parts in (1, 16):
                key = run_key(size, "1", parts)
                produced = out["produce"].get(key)
                if not produced:
                    continue
                log(f"consume: {produced['records']:,} x {size} B from {parts} partition(s)")
                out["consume"][key] = ctx.attempt(
                    f"consume {key}", lambda: consume(ctx, b, f"t-{key}", parts, produced["records"]))
    finally:
        ctx.retire_broker(b)
    return out


def _vmstat():
    v = {}
    with open("/proc/vmstat") as f:
        for line in f:
            k, _, n = line.partition(" ")
            v[k] = int(n)
    return v


def _meminfo_kib(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def _dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


# The sustained run keeps about 16 x (512 + 256) MiB plus what arrives between retention checks
# (every 5 s): older segments are deleted, as on a broker with retention, so a fast disk cannot
# fill up in 60 s. The JSON's written_back_mb against dirtied_mb shows how much of the run the
# kernel wrote to disk before retention removed it.
SUSTAINED_CONFIGS = ("segment.bytes=268435456", "retention.bytes=536870912", "file.delete.delay.ms=1000")
SUSTAINED_FREE_BYTES = 20 << 30


def sustained(ctx):
    """1 KiB records, acks=1, 16 partitions, for the whole profile duration (60 s in full): long
    enough that the kernel's dirty-page limits force write-back during the run."""
    free = shutil.disk_usage(ctx.data_root).free
    need = SUSTAINED_FREE_BYTES if not ctx.quick else 4 << 30
    if free < need:
        raise bench_error(f"sustained run needs {need >> 30} GiB free under {ctx.data_root}, has {free >> 30} GiB")
    b = ctx.fresh_broker("sustained", overrides=["log.retention.check.interval.ms=5000"])
    try:
        create_topics(ctx, b, 16, ["sustained"], SUSTAINED_CONFIGS)
        secs = ctx.profile["sustained_s"]
        log(f"sustained: 1 KiB records, acks=1, 16 partitions, {secs} s")
        page = os.sysconf("SC_PAGE_SIZE")
        before = _vmstat()
        r = produce(ctx, b, "sustained", 1024, "1", 16, duration=secs)
        after = _vmstat()
        r["written_back_mb"] = (after["nr_written"] - before["nr_written"]) * page / 1e6
        r["dirtied_mb"] = (after["nr_dirtied"] - before["nr_dirtied"]) * page / 1e6
        r["dirty_mb_at_end"] = (_meminfo_kib("Dirty") or 0) * 1024 / 1e6
        r["data_dir_mb_at_end"] = _dir_bytes(b.data_dir) / 1e6
        r["topic_configs"] = list(SUSTAINED_CONFIGS)
        return r
    finally:
        ctx.retire_broker(b)


def latency(ctx):
    """p50/p99/p99.9 from send to receive at fixed rates of 1 KiB records against the broker, then
    the same pacing over a loopback TCP echo (the floor of two hops on this machine)."""
    out = {"broker": {}, "echo": {}}
    secs = ctx.profile["latency_s"]
    b = ctx.fresh_broker("latency")
    try:
        create_topics(ctx, b, 1, [f"lat-{r}" for r in LATENCY_RATES])
        for rate in LATENCY_RATES:
            log(f"latency: {rate:,} msg/s of 1 KiB for {secs} s (first second discarded)")
            argv = [ctx.tool("latency_bench"), "--brokers", b.address, "--topic", f"lat-{rate}", "--rate", str(rate),
                    "--duration", str(secs), "--warmup", "1", "--size", "1024"]
            out["broker"][str(rate)] = ctx.attempt(
                f"latency {rate}/s", lambda: _latency_run(argv, secs, f"latency {rate}/s"))
    finally:
        ctx.retire_broker(b)
    esecs = ctx.profile["echo_s"]
    for rate in LATENCY_RATES:
        log(f"latency floor: loopback echo at {rate:,} msg/s for {esecs} s")
        argv = [ctx.tool("latency_bench"), "--echo", "--rate", str(rate), "--duration", str(esecs), "--warmup", "1",
                "--size", "1024"]
        out["echo"][str(rate)] = ctx.attempt(f"echo {rate}/s", lambda: _latency_run(argv, esecs, f"echo {rate}/s"))
    return out


def _latency_run(argv, secs, what):
    # Exit 1 means records were lost or errors seen: the figures still print and the result
    # carries sent/received/errors, so keep it and let the report flag it.
    r = run_tool(argv, timeout=secs + 120, what=what, ok_codes=(0, 1))
    if r["received"] < r["sent"] or r["errors"]:
        r["incomplete"] = True
    return r

"""Client-facing measurements against samsa-server: produce and consume throughput, the
sustained 60 s produce run, and end-to-end latency at fixed rates."""

import os
import shutil
import time

from .procs import bench_error, cpu_seconds, log, run_tool

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
    # The broker's CPU time over the run, where the broker is one process the suite started.
    proc = getattr(b, "proc", None)
    before = cpu_seconds(proc.pid) if proc is not None else None
    r = run_tool(argv, timeout=limit, what=f"produce {topic}")
    after = cpu_seconds(proc.pid) if proc is not None else None
    if before is not None and after is not None and r.get("bytes"):
        r["broker_cpu_s"] = after - before
        r["broker_cpu_s_per_gb"] = (after - before) / (r["bytes"] / 1e9)
    return r


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
    b = ctx.fresh_broker("throughput")
    try:
        return throughput_runs(ctx, b)
    finally:
        ctx.retire_broker(b)


def throughput_runs(ctx, b, who="", on_created=None):
    """The throughput phase's runs against `b` (samsa-server, or Apache Kafka's node with `who`
    naming it in the log and `on_created(topics)` waiting for its leaders)."""
    out = {"produce": {}, "consume": {}}
    created = 0
    for parts in (1, 16):
        names = [f"t-{run_key(s, a, parts)}" for s in SIZES for a in ("1", "all")]
        if parts == 1:
            names += [f"t-{run_key(s, 'idem', 1)}" for s in SIZES]
            names += [f"t-{run_key(s, 'txn', 1)}" for s in SIZES]
        create_topics(ctx, b, parts, names)
        created += len(names)
    if on_created:
        on_created(created)
    for size in SIZES:
        count = ctx.profile["count_100"] if size == 100 else ctx.profile["count_1k"]
        for acks in ("1", "all"):
            for parts in (1, 16):
                key = run_key(size, acks, parts)
                log(f"{who}produce: {count:,} x {size} B, acks={acks}, {parts} partition(s)")
                out["produce"][key] = ctx.attempt(
                    f"{who}produce {key}", lambda: produce(ctx, b, f"t-{key}", size, acks, parts, count=count))
                if acks == "all" and parts == 1:
                    key = run_key(size, "idem", 1)
                    log(f"{who}produce: {count:,} x {size} B, idempotent (acks=all), 1 partition")
                    out["produce"][key] = ctx.attempt(
                        f"{who}produce {key}",
                        lambda: produce(ctx, b, f"t-{key}", size, "all", 1, count=count, idempotent=True))
                    key = run_key(size, "txn", 1)
                    # A commit every 100 records: far more transactions than throughput, so
                    # a tenth of the records.
                    txn_count = max(count // 10, TXN_RECORDS)
                    log(f"{who}produce: {txn_count:,} x {size} B, transactional ({TXN_RECORDS} per commit), 1 partition")
                    out["produce"][key] = ctx.attempt(
                        f"{who}produce {key}",
                        lambda: produce(ctx, b, f"t-{key}", size, "all", 1, count=txn_count,
                                        txn_records=TXN_RECORDS))
    for size in SIZES:
        for parts in (1, 16):
            key = run_key(size, "1", parts)
            produced = out["produce"].get(key)
            if not produced:
                continue
            log(f"{who}consume: {produced['records']:,} x {size} B from {parts} partition(s)")
            out["consume"][key] = ctx.attempt(
                f"{who}consume {key}", lambda: consume(ctx, b, f"t-{key}", parts, produced["records"]))
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
    out = {"echo": {}}
    b = ctx.fresh_broker("latency")
    try:
        create_topics(ctx, b, 1, [f"lat-{r}" for r in LATENCY_RATES])
        out["broker"] = latency_runs(ctx, b)
    finally:
        ctx.retire_broker(b)
    esecs = ctx.profile["echo_s"]
    for rate in LATENCY_RATES:
        log(f"latency floor: loopback echo at {rate:,} msg/s for {esecs} s")
        argv = [ctx.tool("latency_bench"), "--echo", "--rate", str(rate), "--duration", str(esecs), "--warmup", "1",
                "--size", "1024"]
        out["echo"][str(rate)] = ctx.attempt(f"echo {rate}/s", lambda: _latency_run(argv, esecs, f"echo {rate}/s"))
    return out


def broker_latency(ctx, brokers, topic, rate, what, sets=()):
    """latency_bench against `brokers` at `rate` msg/s of 1 KiB for the profile's latency_s, the
    first second discarded; `sets` are librdkafka properties (e.g. acks=all)."""
    secs = ctx.profile["latency_s"]
    argv = [ctx.tool("latency_bench"), "--brokers", brokers, "--topic", topic, "--rate", str(rate),
            "--duration", str(secs), "--warmup", "1", "--size", "1024"]
    for s in sets:
        argv += ["--set", s]
    return ctx.attempt(what, lambda: _latency_run(argv, secs, what))


def latency_runs(ctx, b, who=""):
    """broker_latency at each of LATENCY_RATES on the existing topics lat-<rate> of `b`."""
    out = {}
    for rate in LATENCY_RATES:
        log(f"{who}latency: {rate:,} msg/s of 1 KiB for {ctx.profile['latency_s']} s (first second discarded)")
        out[str(rate)] = broker_latency(ctx, b.address, f"lat-{rate}", rate, f"{who}latency {rate}/s")
    return out


def _latency_run(argv, secs, what):
    # Exit 1 means records were lost or errors seen: the figures still print and the result
    # carries sent/received/errors, so keep it and let the report flag it.
    r = run_tool(argv, timeout=secs + 120, what=what, ok_codes=(0, 1))
    if r["received"] < r["sent"] or r["errors"]:
        r["incomplete"] = True
    return r


# The OpenMessaging Benchmark's standard shape scaled to this machine, and many small keyed
# producers (where brokers usually fall behind: many connections, small batches, every
# partition written by every producer).
OMB = {"partitions": 100, "producers": 4, "consumers": 4, "size": 1024}
KEYED = {"partitions": 16, "producers": 100, "consumers": 1, "size": 100, "keys": 10000,
         "sets": ("linger.ms=0", "batch.size=4096")}


def many_clients_run(ctx, b, prefix):
    """Both workloads against `b` (anything with .address and, optionally, .proc): the OMB shape at
    the profile's fixed rate, then the keyed producers as fast as they go."""
    out = {}
    create_topics(ctx, b, OMB["partitions"], [f"{prefix}omb"])
    create_topics(ctx, b, KEYED["partitions"], [f"{prefix}keyed"])
    time.sleep(1)  # every partition's leader known before the clients ask
    secs = ctx.profile["latency_s"]
    rate = ctx.profile["omb_rate"]
    log(f"clients: OMB shape, 1 topic x {OMB['partitions']} partitions, {OMB['producers']} producers, "
        f"{OMB['consumers']} consumers, {rate:,} msg/s of 1 KiB for {secs} s")
    argv = [ctx.tool("omb_bench"), "--brokers", b.address, "--topic", f"{prefix}omb", "--partitions",
            str(OMB["partitions"]), "--producers", str(OMB["producers"]), "--consumers", str(OMB["consumers"]),
            "--rate", str(rate), "--duration", str(secs), "--warmup", "1", "--size", str(OMB["size"])]
    out["omb"] = ctx.attempt("omb", lambda: _latency_run(argv, secs, "omb"))
    log(f"clients: {KEYED['producers']} keyed producers ({KEYED['keys']:,} keys, {KEYED['size']} B, "
        f"{' '.join(KEYED['sets'])}) on {KEYED['partitions']} partitions, as fast as they go for {secs} s")
    argv = [ctx.tool("omb_bench"), "--brokers", b.address, "--topic", f"{prefix}keyed", "--partitions",
            str(KEYED["partitions"]), "--producers", str(KEYED["producers"]), "--consumers", str(KEYED["consumers"]),
            "--rate", "0", "--duration", str(secs), "--warmup", "1", "--size", str(KEYED["size"]),
            "--keys", str(KEYED["keys"])]
    for s in KEYED["sets"]:
        argv += ["--set", s]
    out["keyed"] = ctx.attempt("keyed producers", lambda: _latency_run(argv, secs, "keyed producers"))
    return out


def many_clients(ctx):
    """Phase "clients": many_clients_run against a fresh samsa-server."""
    b = ctx.fresh_broker("clients")
    try:
        return many_clients_run(ctx, b, "")
    finally:
        ctx.retire_broker(b)

"""The broker process itself: resident memory idle and with many partitions, startup time with
10,000 partitions after a clean shutdown, and recovery time after SIGKILL with about 1 GiB in
unflushed active segments."""

import os
import time

from . import kafka_phases, kafka_wire
from .procs import bench_error, log, open_fds, run_tool


def _settled_rss_kib(b, wait_s=2.0):
    """RSS once the broker has been idle for `wait_s` (the largest of a few samples after it, so
    a momentary dip does not flatter the figure)."""
    time.sleep(wait_s)
    samples = []
    for _ in range(3):
        samples.append(b.rss_kib())
        time.sleep(0.3)
    return max(samples)


def _create_partitions(ctx, b, prefix, topics, partitions):
    argv = [ctx.tool("topics_bench"), "--brokers", b.address, "--partitions", str(partitions), "--seed",
            "--prefix", prefix, "--count", str(topics)]
    r = run_tool(argv, timeout=900, what=f"create {topics} x {partitions} partitions")
    if r["created"] != topics or r["seeded"] != topics * partitions:
        raise bench_error(f"created {r['created']} of {topics} topics, seeded {r['seeded']} partitions: {r}")
    return r


def _fd_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return None


def _fd_budget(out, parts_per_topic, topics):
    """How many of `topics` new topics the broker can open within its file-descriptor limit,
    from the fds per partition measured on the partitions created so far."""
    st = out["stages"][-1] if out["stages"] else None
    if not st or st["open_fds"] is None or out["fd_limit"] is None:
        return topics
    per = max((st["open_fds"] - out["idle_fds"]) / st["partitions"], 0.01)
    out["fds_per_partition"] = per
    room = out["fd_limit"] * 0.9 - st["open_fds"]
    return max(0, min(topics, int(room / per) // parts_per_topic))


def memory_and_startup(ctx):
    """Idle RSS; RSS with the first and second partition stages (1,000 and 10,000 in full: 100
    partitions per topic, one record each); per-partition RSS; clean shutdown; startup time
    with them all; idle RSS after that restart. A stage that cannot be created is reported and
    the rest is measured with the partitions that exist."""
    stages = ctx.profile["mem_stages"]  # [(topics, partitions per topic), ...], cumulative
    out = {"stages": []}
    b = ctx.fresh_broker("memory")
    try:
        out["startup_empty_s"] = b.started_s
        out["idle_rss_kib"] = _settled_rss_kib(b)
        out["idle_fds"] = open_fds(b.proc.pid)
        out["fd_limit"] = _fd_limit(b.proc.pid)
        log(f"memory: idle RSS {out['idle_rss_kib'] / 1024:.1f} MiB")
        total = 0
        for i, (topics, parts) in enumerate(stages):
            ok = ctx.attempt(f"memory stage {total + topics * parts:,} partitions",
                             lambda: _stage(ctx, b, out, f"m{i}-", topics, parts))
            if not ok:
                break
            total += topics * parts
        if not out["stages"]:
            return out
        last = out["stages"][-1]
        out["partitions"] = last["partitions"]
        out["per_partition_kib"] = (last["rss_kib"] - out["idle_rss_kib"]) / last["partitions"]
        # A stage that failed part-way may have left topics behind: restart with what is there.
        total = kafka_wire.metadata("127.0.0.1", b.port, timeout=60)["partitions"]
        out["partitions_at_restart"] = total
        code, secs = b.stop()
        out["clean_shutdown_s"], out["clean_shutdown_exit"] = secs, code
        if code != 0:
            raise bench_error(f"samsa-server exited with {code} on SIGTERM; see {b.log_path}")
        log(f"startup: restarting with {total:,} partitions")
        out["startup_s"], md = b.start()
        out["startup_metadata"] = md
        if md["partitions"] != total:
            raise bench_error(f"after restart Metadata lists {md['partitions']} partitions, expected {total}")
        out["restart_idle_rss_kib"] = _settled_rss_kib(b)
        return out
    finally:
        ctx.retire_broker(b)


def _stage(ctx, b, out, prefix, topics, parts):
    fit = _fd_budget(out, parts, topics)
    if fit < topics:
        have = out["stages"][-1]["partitions"]
        ctx.errors.append({"what": "memory stage", "error":
                           f"samsa-server holds {out['fds_per_partition']:.1f} file descriptors per partition and "
                           f"its RLIMIT_NOFILE is {out['fd_limit']:,}: {have + topics * parts:,} partitions do not "
                           f"fit, measuring {have + fit * parts:,} instead (raise the hard limit with ulimit -Hn, "
                           f"or the broker must keep fewer files open per partition)"})
        log(f"memory: {ctx.errors[-1]['error']}")
        topics = fit
        if topics == 0:
            return False
    log(f"memory: creating {topics} topics x {parts} partitions, one record each")
    created = _create_partitions(ctx, b, prefix, topics, parts)
    total = (out["stages"][-1]["partitions"] if out["stages"] else 0) + topics * parts
    rss = _settled_rss_kib(b)
    out["stages"].append({"partitions": total, "rss_kib": rss, "open_fds": open_fds(b.proc.pid),
                          "create_seconds": created["create_seconds"], "seed_seconds": created["seed_seconds"]})
    log(f"memory: {total:,} partitions: RSS {rss / 1024:.1f} MiB")
    return True


def _log_bytes(data_dir, topic):
    total = 0
    for entry in os.scandir(data_dir):
        if entry.is_dir() and entry.name.startswith(topic + "-"):
            for f in os.scandir(entry.path):
                if f.name.endswith(".log"):
                    total += f.stat().st_size
    return total


RECOVERY_PARTITIONS = 4


def recovery(ctx):
    """About 1 GiB of 1 KiB records over 4 partitions with the default flush policy (nothing is
    fsynced, everything sits in active segments), SIGKILL, restart: the time until Metadata is
    answered, and the log bytes scanned per second. Then every record is read back."""
    nbytes = ctx.profile["recovery_bytes"]
    count = nbytes // 1024
    b = ctx.fresh_broker("recovery")
    try:
        kafka_phases.create_topics(ctx, b, RECOVERY_PARTITIONS, ["recovery"])
        log(f"recovery: producing {nbytes >> 20} MiB to {RECOVERY_PARTITIONS} partitions")
        produced = kafka_phases.produce(ctx, b, "recovery", 1024, "1", RECOVERY_PARTITIONS, count=count)
        b.kill()
        scanned = _log_bytes(b.data_dir, "recovery")
        log(f"recovery: SIGKILLed with {scanned / 1e6:.0f} MB of log; restarting")
        secs, md = b.start()
        out = {"records": produced["records"], "log_bytes": scanned, "seconds": secs,
               "scan_mb_per_s": scanned / secs / 1e6, "metadata": md}
        log("recovery: reading every record back")
        back = kafka_phases.consume(ctx, b, "recovery", RECOVERY_PARTITIONS, produced["records"], timeout=120)
        out["records_read_back"] = back["records"]
        if back["records"] != produced["records"]:
            raise bench_error(f"after recovery {back['records']} of {produced['records']} records came back")
        return out
    finally:
        ctx.retire_broker(b)

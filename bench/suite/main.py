"""The benchmark suite: runs every measurement against freshly started servers, prints a table and
writes <out>/bench.json. bench/run.sh builds the programs and runs this with /usr/bin/python3."""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import traceback

from . import apache_kafka, broker_phases, cluster_phases, kafka_phases, limits, memory, peer, report
from .procs import bench_error, broker, log, registry

# Full run: about 10-15 minutes on 2 cores. Quick: a few seconds per measurement.
PROFILES = {
    "full": {
        "iperf_s": 5, "dd_bytes": 1 << 30, "count_100": 5_000_000, "count_1k": 1_000_000, "sustained_s": 60,
        "latency_s": 15, "echo_s": 6, "mem_stages": [(10, 100), (90, 100)], "recovery_bytes": 1 << 30,
        "redis_n": 1_000_000, "omb_rate": 50_000,
    },
    "quick": {
        "iperf_s": 2, "dd_bytes": 256 << 20, "count_100": 500_000, "count_1k": 100_000, "sustained_s": 5,
        "latency_s": 3, "echo_s": 2, "mem_stages": [(1, 100), (4, 100)], "recovery_bytes": 128 << 20,
        "redis_n": 100_000, "omb_rate": 20_000,
    },
}

REQUIRED_COMMANDS = ("iperf3", "dd", "redis-server", "redis-cli", "redis-benchmark")


class context:
    def __init__(self, repo, build_dir, out_dir, quick, precondition=True):
        self.repo, self.build_dir, self.out_dir = repo, build_dir, out_dir
        self.quick = quick
        self.profile = PROFILES["quick" if quick else "full"]
        self.data_root = os.path.join(out_dir, "data")
        self.log_dir = os.path.join(out_dir, "logs")
        self.procs = registry()
        self.errors = []
        # Full runs only: a quick run (CI's smoke test) must not write gigabytes of ballast.
        self.ballast = memory.ballast(os.path.join(self.data_root, "page-cache-ballast"),
                                      enabled=precondition and not quick)

    def top_up(self):
        """Memory full of (clean) page cache again before a broker starts: see memory.py."""
        self.ballast.top_up()

    def tool(self, name):
        return os.path.join(self.build_dir, "bench", name)

    def attempt(self, what, fn):
        """Runs one measurement; a failure is recorded and the suite goes on with the next."""
        try:
            return fn()
        except (bench_error, OSError, TimeoutError, ValueError, KeyError) as e:
            log(f"FAILED {what}: {e}")
            self.errors.append({"what": what, "error": str(e)})
            return None

    def fresh_broker(self, name, overrides=()):
        """A samsa-server with an empty data directory <out>/data/<name>, already answering."""
        d = os.path.join(self.data_root, name)
        shutil.rmtree(d, ignore_errors=True)
        self.top_up()
        b = broker(self.procs, os.path.join(self.build_dir, "src", "app", "samsa-server"), d,
                   os.path.join(self.log_dir, f"broker-{name}.log"), overrides)
        try:
            b.started_s, b.start_metadata = b.start()
        except bench_error:
            if b.proc is not None:
                self.procs.stop(b.proc)
            raise
        return b

    def retire_broker(self, b):
        """Stops the broker (if still running) and deletes its data."""
        if b.proc is not None and b.proc.poll() is None:
            code, secs = b.stop()
            log(f"broker stopped (exit {code}) in {secs:.1f} s")
            if code != 0:
                self.errors.append({"what": f"shutdown of {b.data_dir}", "error": f"exit status {code}"})
        t = time.monotonic()
        shutil.rmtree(b.data_dir, ignore_errors=True)
        log(f"removed {b.data_dir} in {time.monotonic() - t:.1f} s")


def _disk_stat(path):
    """(sectors written, I/Os in flight) of the block device holding `path`, or None."""
    st = os.stat(path)
    try:
        with open(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}/stat") as f:
            fields = f.read().split()
        return int(fields[6]), int(fields[8])
    except (OSError, IndexError, ValueError):
        return None


def settle(data_root, limit_s=60):
    """sync, then wait until the data disk is quiet (nothing in flight and under 1 MB written in
    half a second, twice running), so one phase's write-back and file deletion do not land in the
    next phase's figures. Gives up after `limit_s` (other processes may keep the disk busy)."""
    t0 = time.monotonic()
    os.sync()
    quiet, last = 0, _disk_stat(data_root)
    while last is not None and quiet < 2 and time.monotonic() - t0 < limit_s:
        time.sleep(0.5)
        now = _disk_stat(data_root)
        quiet = quiet + 1 if (now[1] == 0 and (now[0] - last[0]) * 512 < 1e6) else 0
        last = now
    return time.monotonic() - t0


def machine_info(data_root):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    # findmnt names ext4 as such; stat -f reports the superblock magic ext2, ext3 and ext4 share.
    fs = (subprocess.run(["findmnt", "-no", "FSTYPE", "--target", data_root], capture_output=True,
                         text=True).stdout.strip()
          or subprocess.run(["stat", "-f", "-c", "%T", data_root], capture_output=True, text=True).stdout.strip())
    return {"nproc": os.cpu_count(), "cpu_model": cpu, "kernel": platform.release(),
            "memory_gib": round(mem_kib / (1 << 20), 1), "data_dir": data_root, "data_dir_fs": fs,
            "hostname": platform.node()}


def versions(repo):
    def out(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, cwd=repo, timeout=10).stdout.strip()
        except OSError:
            return None
    return {"samsa_git": out(["git", "describe", "--always", "--dirty"]),
            "librdkafka": out(["pkg-config", "--modversion", "rdkafka"]),
            "redis": out(["redis-server", "--version"]), "iperf3": (out(["iperf3", "--version"]) or "").split("\n")[0]}


# Latency first after the limits: it is the figure most easily disturbed by the write-back and
# file deletion that the bulk phases leave behind.
PHASES = (
    ("limits", limits.measure),
    ("latency", kafka_phases.latency),
    ("throughput", kafka_phases.throughput),
    ("sustained", kafka_phases.sustained),
    ("memory", broker_phases.memory_and_startup),
    ("recovery", broker_phases.recovery),
    ("clients", kafka_phases.many_clients),
    ("redis", peer.redis_streams),
    ("kafka", apache_kafka.side_by_side),
    ("replication", cluster_phases.replication),
)


def _on_signal(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    ap = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="shortened runs (a few seconds each), for smoke tests")
    ap.add_argument("--out", default=None, help="output directory (default build/bench)")
    ap.add_argument("--build-dir", default=None, help="the release build (default build/release)")
    ap.add_argument("--no-precondition", action="store_true",
                    help="leave free memory free (no page-cache ballast; see bench/suite/memory.py)")
    ap.add_argument("--only", default=None, help="comma-separated phases: " + ",".join(p for p, _ in PHASES))
    a = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = os.path.abspath(a.out or os.path.join(repo, "build", "bench"))
    build_dir = os.path.abspath(a.build_dir or os.path.join(repo, "build", "release"))
    missing = [c for c in REQUIRED_COMMANDS if shutil.which(c) is None]
    if missing:
        sys.exit(f"bench: missing {', '.join(missing)}; install them with: scripts/setup.sh bench")
    only = set(a.only.split(",")) if a.only else None
    if only and not only <= {p for p, _ in PHASES}:
        sys.exit(f"bench: unknown phase in --only {a.only}")

    ctx = context(repo, build_dir, out, a.quick, precondition=not a.no_precondition)
    shutil.rmtree(ctx.log_dir, ignore_errors=True)
    for d in (ctx.data_root, ctx.log_dir):
        os.makedirs(d, exist_ok=True)
    for name in ("samsa-server",):
        if not os.access(os.path.join(build_dir, "src", "app", name), os.X_OK):
            sys.exit(f"bench: {name} is not built in {build_dir}")
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)

    started = time.monotonic()
    now = datetime.datetime.now(datetime.timezone.utc)
    meta = {"date": now.isoformat(timespec="seconds"), "mode": "quick" if a.quick else "full",
            "machine": machine_info(ctx.data_root), "versions": versions(repo), "profile": ctx.profile}
    if meta["machine"]["data_dir_fs"] in ("tmpfs", "ramfs"):
        log(f"warning: {ctx.data_root} is on {meta['machine']['data_dir_fs']}: disk figures will be memory figures")
    results = {}
    interrupted = False
    try:
        if ctx.ballast.enabled:
            log("=== page cache: filling free memory with a ballast file (see bench/suite/memory.py)")
            ctx.attempt("page-cache ballast", ctx.ballast.measure_reclaimed)
        for name, fn in PHASES:
            if only and name not in only:
                continue
            waited = settle(ctx.data_root)
            ctx.top_up()
            log(f"=== {name} (waited {waited:.1f} s for the disk to settle)")
            results[name] = ctx.attempt(name, lambda: fn(ctx))
    except KeyboardInterrupt as e:
        interrupted = True
        log(f"interrupted ({str(e) or 'Ctrl-C'}): stopping everything")
    except Exception:
        ctx.errors.append({"what": "suite", "error": traceback.format_exc()})
        log(traceback.format_exc())
    finally:
        ctx.procs.stop_all()
        results["page_cache"] = ctx.ballast.summary()
        ctx.ballast.close()
        shutil.rmtree(ctx.data_root, ignore_errors=True)
    if interrupted:
        return 130

    items = report.build(results)
    m = meta["machine"]
    header = (f"Samsa benchmarks ({meta['mode']}) {meta['date']} | {m['nproc']} cores, {m['cpu_model']}, "
              f"Linux {m['kernel']}, {m['memory_gib']} GiB | data on {m['data_dir_fs']} | "
              f"samsa {meta['versions']['samsa_git']}, librdkafka {meta['versions']['librdkafka']}")
    text = report.table(items, header)
    meta["duration_s"] = round(time.monotonic() - started, 1)
    doc = {**meta, "rows": items, "summary": report.summary(items), "results": results, "errors": ctx.errors}
    path = os.path.join(out, "bench.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    with open(os.path.join(out, "bench.txt"), "w") as f:
        f.write(text + "\n")
    print(text)
    for e in ctx.errors:
        print(f"error: {e['what']}: {e['error'].splitlines()[0] if e['error'] else ''}")
    print(f"wrote {path} ({meta['duration_s']:.0f} s); logs in {ctx.log_dir}")
    return 1 if ctx.errors else 0


if __name__ == "__main__":
    sys.exit(main())

"""The peer: Redis Streams (Debian's redis-server) with an append-only file fsynced every second,
loaded with redis-benchmark's pipelined XADD at the record sizes of the produce runs."""

import csv
import io
import os
import shutil
import subprocess
import time

from .procs import bench_error, free_port, log

PIPELINE = 64


def _redis_cli(port, *args):
    r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise bench_error(f"redis-cli {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout.strip()


def _wait_ready(port, proc, deadline):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise bench_error(f"redis-server exited with status {proc.returncode}")
        try:
            if _redis_cli(port, "ping") == "PONG":
                return
        except bench_error:
            pass
        time.sleep(0.05)
    raise bench_error("redis-server did not answer PING within 30 s")


def _xadd(port, n, size):
    value = "v" * size
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(n), "-P", str(PIPELINE), "--csv",
            "XADD", "s", "*", "f", value]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise bench_error(f"redis-benchmark failed: {r.stderr.strip()[-500:]}")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    if not rows or "rps" not in rows[-1]:
        raise bench_error(f"cannot read redis-benchmark's CSV: {r.stdout[:300]}")
    return float(rows[-1]["rps"])


def redis_streams(ctx):
    version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
    d = os.path.join(ctx.data_root, "redis")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    port = free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--appendonly", "yes",
            "--appendfsync", "everysec", "--save", "", "--daemonize", "no", "--protected-mode", "yes"]
    proc = ctx.procs.start("redis-server", argv, os.path.join(ctx.log_dir, "redis.log"))
    out = {"version": version, "pipeline": PIPELINE, "clients": 50, "appendfsync": "everysec"}
    try:
        _wait_ready(port, proc, time.monotonic() + 30)
        for size in (100, 1024):
            n = ctx.profile["redis_n"]
            _redis_cli(port, "del", "s")
            log(f"redis: redis-benchmark XADD, {n:,} x {size} B, pipeline {PIPELINE}")
            rps = _xadd(port, n, size)
            length = int(_redis_cli(port, "xlen", "s"))
            if length < n:
                raise bench_error(f"XADD benchmark left {length} entries, expected {n}")
            out[str(size)] = {"records_per_s": rps, "mb_per_s": rps * size / 1e6, "entries": length, "requests": n}
    finally:
        ctx.procs.stop(proc)
        shutil.rmtree(d, ignore_errors=True)
    return out

"""The limits every figure is compared with, measured in the same run on the same machine:
loopback TCP bandwidth (iperf3), sequential disk write with fdatasync (dd), and the librdkafka
producer's own ceiling against its built-in mock cluster."""

import json
import os
import re
import subprocess
import time

from .procs import bench_error, free_port, log, run_tool


def loopback_mbps(ctx):
    """iperf3 over 127.0.0.1 for a few seconds, one stream: MB/s (10^6 bytes) received."""
    port = free_port()
    server = ctx.procs.start("iperf3 server", ["iperf3", "-s", "-B", "127.0.0.1", "-p", str(port)],
                             os.path.join(ctx.log_dir, "iperf3.log"))
    try:
        argv = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(ctx.profile["iperf_s"]), "-J"]
        error = None
        for _ in range(50):
            # iperf3 3.12 -J exits 0 even when it cannot connect; the JSON carries "error".
            r = subprocess.run(argv, capture_output=True, text=True, timeout=ctx.profile["iperf_s"] + 30)
            try:
                doc = json.loads(r.stdout)
            except ValueError:
                doc = {"error": f"exit {r.returncode}: {r.stderr.strip()[-300:]}"}
            error = doc.get("error")
            if r.returncode == 0 and not error:
                break
            time.sleep(0.1)  # the server may not listen yet
        else:
            raise bench_error(f"iperf3 client failed: {error}")
    finally:
        ctx.procs.stop(server)
    end = doc["end"]
    bps = end["sum_received"]["bits_per_second"]
    return {"mb_per_s": bps / 8 / 1e6, "seconds": end["sum_received"]["seconds"], "tool": "iperf3 -c 127.0.0.1"}


_DD_LINE = re.compile(r"^(\d+) bytes .* copied, ([\d.,]+) s,")


def disk_write_mbps(ctx):
    """dd of zeros with conv=fdatasync into the data directory's file system: the time includes
    the final fdatasync, so it is what the disk sustains, not the page cache."""
    size = ctx.profile["dd_bytes"]
    path = os.path.join(ctx.data_root, "dd-probe")
    argv = ["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={size >> 20}", "conv=fdatasync"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=900, env=dict(os.environ, LC_ALL="C"))
    finally:
        if os.path.exists(path):
            os.unlink(path)
    if r.returncode != 0:
        raise bench_error(f"dd failed: {r.stderr.strip()}")
    for line in r.stderr.splitlines():
        m = _DD_LINE.match(line)
        if m:
            nbytes, secs = int(m.group(1)), float(m.group(2).replace(",", "."))
            return {"mb_per_s": nbytes / secs / 1e6, "bytes": nbytes, "seconds": secs,
                    "tool": "dd bs=1M conv=fdatasync"}
    raise bench_error(f"cannot read dd's summary: {r.stderr.strip()}")


def mock_producer(ctx, size):
    """The producer of the throughput runs against librdkafka's mock cluster (no broker process,
    no disk): how fast the client alone goes on this machine."""
    count = ctx.profile["count_100"] if size == 100 else ctx.profile["count_1k"]
    argv = [ctx.tool("produce_bench"), "--mock", "--topic", "mock", "--partitions", "1", "--size", str(size),
            "--count", str(count), "--acks", "1"]
    return run_tool(argv, timeout=600, what=f"mock-cluster producer {size} B")


def measure(ctx):
    out = {}
    log("limits: loopback TCP (iperf3)")
    out["loopback"] = ctx.attempt("loopback", lambda: loopback_mbps(ctx))
    log(f"limits: disk sequential write ({ctx.profile['dd_bytes'] >> 20} MiB, dd conv=fdatasync)")
    out["disk"] = ctx.attempt("disk", lambda: disk_write_mbps(ctx))
    for size in (100, 1024):
        log(f"limits: producer ceiling against the mock cluster, {size} B")
        out[f"mock_{size}"] = ctx.attempt(f"mock_{size}", lambda: mock_producer(ctx, size))
    return out

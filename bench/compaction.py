#!/usr/bin/python3
"""Compaction benchmark: cleaner throughput, and produce latency while the cleaner runs.

    bench/compaction.py [--mb 512] [--keys 10000] [--rate 5000] [--build-dir build/release]

1. Starts samsa-server (release build) with its data under build/bench/compaction.
2. Writes --mb MiB of 1 KiB keyed records (--keys distinct keys) into a compacted topic whose
   min.cleanable.dirty.ratio is 0.99, so nothing is cleaned yet.
3. Measures end-to-end latency at --rate msg/s of 1 KiB on another topic, idle cleaner.
4. Switches the topic to cleanup.policy=compact (samsa configs --alter) 3 s into a second
   latency run: the cleaner starts at once; the seconds it works are reported apart.
5. Reads the cleaner's log lines: bytes read and written, seconds; prints MB/s cleaned.
Prints a small table and writes build/bench/compaction.json.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=512)
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--rate", type=int, default=5000)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "release"))
    a = ap.parse_args()
    server = os.path.join(a.build_dir, "src", "app", "samsa-server")
    cli = os.path.join(a.build_dir, "src", "cli", "samsa")
    produce = os.path.join(a.build_dir, "bench", "produce_bench")
    latency = os.path.join(a.build_dir, "bench", "latency_bench")
    for p in (server, cli, produce, latency):
        if not os.access(p, os.X_OK):
            sys.exit(f"compaction.py: {p} is missing: build the release preset (bench/run.sh builds it)")
    out_dir = os.path.join(ROOT, "build", "bench")
    data = os.path.join(out_dir, "compaction")
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    log_path = os.path.join(out_dir, "compaction-server.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([server, "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override",
                             f"log.dirs={data}", "--override", "log.cleaner.backoff.ms=500",
                             "--override", "offsets.topic.num.partitions=1"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        for _ in range(300):
            time.sleep(0.1)
            m = re.search(r"listening on PLAINTEXT://127\.0\.0\.1:(\d+)", open(log_path).read())
            if m:
                port = m.group(1)
                break
        if not port:
            sys.exit("compaction.py: the broker did not start")
        bs = f"127.0.0.1:{port}"
        run([cli, "topics", "--create", "--bootstrap-server", bs, "--topic", "compacted", "--partitions", "1",
             "--replication-factor", "1", "--config", "cleanup.policy=delete", "--config", "segment.bytes=67108864",
             "--config", "retention.ms=-1"])
        for t in ("lat-idle", "lat-busy"):
            run([cli, "topics", "--create", "--bootstrap-server", bs, "--topic", t, "--partitions", "1",
                 "--replication-factor", "1"])
        records = a.mb * 1024
        w = json.loads(run([produce, "--brokers", bs, "--topic", "compacted", "--size", "1024", "--count",
                            str(records), "--keys", str(a.keys)]).stdout.strip().splitlines()[-1])

        def latency_run(topic):
            r = run([latency, "--brokers", bs, "--topic", topic, "--rate", str(a.rate), "--duration", "10",
                     "--warmup", "1", "--size", "1024"])
            return json.loads(r.stdout.strip().splitlines()[-1])

        idle = latency_run("lat-idle")
        # The second latency run starts first; the cleaner is released 3 s into it, so the
        # cleaning falls inside the measured window (its seconds are reported apart).
        lat = subprocess.Popen([latency, "--brokers", bs, "--topic", "lat-busy", "--rate", str(a.rate),
                                "--duration", "12", "--warmup", "1", "--size", "1024"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        run([cli, "configs", "--alter", "--bootstrap-server", bs, "--topic", "compacted", "--add-config",
             "cleanup.policy=compact,min.cleanable.dirty.ratio=0.01"])
        began = time.monotonic()
        out, _ = lat.communicate(timeout=120)
        busy = json.loads(out.strip().splitlines()[-1])
        line = None
        while time.monotonic() - began < 300:
            m = re.findall(r"compacted-0: cleaned .*?(\d+) bytes read, (\d+) written, (\d+) records kept, (\d+) "
                           r"removed .*?, ([0-9.]+) s", open(log_path).read())
            if m:
                line = m[-1]
                break
            time.sleep(0.5)
        if not line:
            sys.exit("compaction.py: the cleaner did not report within 5 minutes")
        read_b, written_b, kept, removed, secs = int(line[0]), int(line[1]), int(line[2]), int(line[3]), float(line[4])
        # Seconds 2..(2 + cleaning) of the measured window (after the 1 s warmup) hold the cleaning.
        worst = busy.get("worst_us_per_second", [])
        first = 2
        last = min(len(worst), first + int(float(line[4])) + 2)
        during = worst[first:last]
        others = [w for i, w in enumerate(worst) if i < first or i >= last]
        result = {
            "written_mb": w["bytes"] / 1e6, "keys": a.keys, "produce_mb_per_s": w["mb_per_s"],
            "cleaner_bytes_read": read_b, "cleaner_bytes_written": written_b, "cleaner_seconds": secs,
            "cleaner_read_mb_per_s": read_b / secs / 1e6,
            # The map pass and the copy pass each read the dirty log once.
            "log_mb_cleaned_per_s": read_b / 2 / secs / 1e6,
            "records_kept": kept, "records_removed": removed,
            "latency_rate": a.rate, "latency_idle": idle, "latency_while_cleaning": busy,
            "worst_us_per_second_during_cleaning": during,
            "worst_us_per_second_otherwise": others,
        }
        with open(os.path.join(out_dir, "compaction.json"), "w") as f:
            json.dump(result, f, indent=2)
        print(f"compaction: {w['bytes'] / 1e6:.0f} MB of 1 KiB records, {a.keys} keys")
        print(f"  cleaner: {read_b / 1e6:.0f} MB read, {written_b / 1e6:.1f} MB written in {secs:.2f} s "
              f"= {result['log_mb_cleaned_per_s']:.0f} MB/s of log cleaned ({result['cleaner_read_mb_per_s']:.0f} MB/s read)")
        for name, r in (("idle cleaner", idle), ("cleaner released 3 s in", busy)):
            print(f"  e2e latency {a.rate} msg/s, {name}: p50 {r['p50_us'] / 1000:.2f} ms, "
                  f"p99 {r['p99_us'] / 1000:.2f} ms, p99.9 {r['p999_us'] / 1000:.2f} ms")
        fmt = lambda xs: ", ".join(f"{x / 1000:.1f}" for x in xs)
        print(f"  worst latency per second (ms) while cleaning: {fmt(during)}; other seconds: {fmt(others)}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()

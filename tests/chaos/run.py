#!/usr/bin/python3
"""The chaos harness: ZooKeeper and N brokers, each in its own network namespace, a workload of
acks=all idempotent producers and consumers writing a history, a nemesis applying a seeded
schedule of faults one at a time, then a final read of every partition and the replicas' logs
from the brokers' data directories (`samsa dump-log`), all handed to the checker.

    run.py [--seed S] [--faults N] [--brokers N] [--partitions N] [--producers N] [--rate R]
           [--kinds k1,k2] [--broken] [--out DIR] [--keep]

It prints the seed and the whole schedule first (rerun with --seed S --faults N to replay the
schedule; timing is the machine's), one line per fault as it happens, then the checker's
examples and its summary line, and the longest unavailability per fault kind: the longest time
one partition went without an acknowledged write, from the fault's start until the next fault.
Exit status: the checker's (0 clean, 1 on lost, duplicated, inconsistent or divergent records),
2 when the run itself could not be carried out.

--broken runs the deliberately unsafe setting (acks=1 producers without idempotence,
unclean.leader.election.enable=true, min.insync.replicas=1) under the one fault that exposes it
(the leader cut from its followers, then killed): its exit status is 0 only if the checker
finds acknowledged records lost, which shows the harness can fail.

Needs root (namespaces, tmpfs), Debian's zookeeper and python3-confluent-kafka, and the
binaries: SAMSA_SERVER and SAMSA_CLI (or --server/--cli). Everything it starts, mounts and
creates is removed on exit, Ctrl-C included; the run's folder is kept with --keep or when the
check fails.
"""

import argparse
import bisect
import collections
import glob
import json
import logging
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import checker  # noqa: E402

SESSION_TIMEOUT_MS = 6000
TOPIC = "chaos"
SANITIZER_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")


def say(*parts):
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, flush=True)


def broker_overrides(broken):
    o = {
        "zookeeper.session.timeout.ms": SESSION_TIMEOUT_MS,
        "zookeeper.connection.timeout.ms": 30000,
        "default.replication.factor": 3,
        "min.insync.replicas": 1 if broken else 2,
        "unclean.leader.election.enable": "true" if broken else "false",
        "offsets.topic.replication.factor": 3,
        "offsets.topic.num.partitions": 4,
        "transaction.state.log.num.partitions": 4,
        "replica.lag.time.max.ms": 3000,
        "log.segment.bytes": 1 << 20,
        "leader.imbalance.check.interval.seconds": 5,
    }
    return o


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Fault injection against a samsa cluster, checked.")
    ap.add_argument("--seed", type=int, default=None, help="the schedule's seed (default: random)")
    ap.add_argument("--faults", type=int, default=24)
    ap.add_argument("--brokers", type=int, default=3)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--producers", type=int, default=3)
    ap.add_argument("--rate", type=float, default=150.0, help="records per second per producer")
    ap.add_argument("--kinds", default=None, help="comma-separated fault kinds (default: all)")
    ap.add_argument("--recovery-timeout", type=float, default=60.0,
                    help="seconds to wait for a healthy cluster after each fault")
    ap.add_argument("--broken", action="store_true", help="the unsafe-settings demonstration (see above)")
    ap.add_argument("--server", default=os.environ.get("SAMSA_SERVER"))
    ap.add_argument("--cli", default=os.environ.get("SAMSA_CLI"))
    ap.add_argument("--out", default=None, help="the run's folder (default /tmp/samsa-chaos-<pid>)")
    ap.add_argument("--keep", action="store_true", help="keep the run's folder")
    ap.add_argument("--report", default=None, help="also write the run's report (JSON) here")
    return ap.parse_args(argv)


def replica_records(cli, broker, partitions):
    """The broker's records of every partition of the topic and its high watermark, as the
    checker's replica records (offset, value), from the .log files by `samsa dump-log`."""
    hws = {}
    checkpoint = os.path.join(broker.data_dir, "replication-offset-checkpoint")
    if os.path.exists(checkpoint):
        with open(checkpoint) as f:
            for line in f.read().splitlines()[2:]:
                topic, p, off = line.split()
                hws[(topic, int(p))] = int(off)
    out = []
    for p in range(partitions):
        d = os.path.join(broker.data_dir, f"{TOPIC}-{p}")
        logs = sorted(glob.glob(os.path.join(d, "*.log")))
        if not logs:
            continue
        hw = hws.get((TOPIC, p), 0)
        name = f"{TOPIC}/{p}"
        r = subprocess.run([cli, "dump-log", "--print-data-log", "--files", ",".join(logs)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"samsa dump-log failed on broker {broker.broker_id}'s {d}: {r.stderr.strip()}")
        records = 0
        batch = ""
        for line in r.stdout.splitlines():
            b = re.match(r"baseOffset: \d+ .* producerId: (-?\d+) producerEpoch: (-?\d+) "
                         r"partitionLeaderEpoch: (-?\d+)", line)
            if b:   # who wrote the batch (producer id, epoch) under which leader epoch: for reading by hand
                batch = f"pid {b.group(1)} epoch {b.group(2)} leader epoch {b.group(3)}"
                continue
            m = re.match(r"\| offset: (\d+) .* sequence: (-?\d+) .* payload: (\S+)$", line)
            if m:
                out.append({"broker": broker.broker_id, "partition": name, "hw": hw, "offset": int(m.group(1)),
                            "value": m.group(3), "written": f"{batch} seq {m.group(2)}"})
                records += 1
        if records == 0:
            out.append({"broker": broker.broker_id, "partition": name, "hw": hw})
    return out


def unavailability(events, windows):
    """{kind: longest seconds any one partition went without an acknowledgement} over each
    fault's window (its start until the next fault's start)."""
    by_partition = {}
    for e in events:
        if e["type"] == "ack":
            by_partition.setdefault(e["partition"], []).append(e["time"])
    for times in by_partition.values():
        times.sort()
    worst = {}
    for kind, start, end in windows:
        longest = 0.0
        for times in by_partition.values():
            i = bisect.bisect_right(times, start)
            j = bisect.bisect_left(times, end)
            points = [start] + times[i:j] + [end]
            longest = max(longest, max(b - a for a, b in zip(points, points[1:])))
        worst[kind] = max(worst.get(kind, 0.0), longest)
    return worst


def create_topic(bootstrap, partitions, timeout=60):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap, "logger": logging.getLogger("librdkafka")})
    deadline = time.monotonic() + timeout
    while True:
        f = admin.create_topics([NewTopic(TOPIC, partitions, 3)])[TOPIC]
        try:
            f.result(30)
            return
        except Exception as e:
            if "TOPIC_ALREADY_EXISTS" in str(e):
                return
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def main(argv=None):
    args = parse_args(argv)
    for what, path in (("SAMSA_SERVER (--server)", args.server), ("SAMSA_CLI (--cli)", args.cli)):
        if not path or not os.access(path, os.X_OK):
            print(f"chaos: {what} must name the built binary (got {path!r})", file=sys.stderr)
            return 2
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        print("chaos: python3-confluent-kafka is missing (scripts/setup.sh test; run with /usr/bin/python3)",
              file=sys.stderr)
        return 2
    import clients
    import cluster as cluster_mod
    import netns
    import nemesis as nemesis_mod

    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    brokers = args.brokers
    kinds = tuple(args.kinds.split(",")) if args.kinds else nemesis_mod.KINDS
    if args.broken:
        kinds = ("isolate-leader",)
    unknown = [k for k in kinds if k not in nemesis_mod.KINDS]
    if unknown:
        print(f"chaos: unknown fault kind(s) {','.join(unknown)}; known: {','.join(nemesis_mod.KINDS)}",
              file=sys.stderr)
        return 2
    plan = nemesis_mod.schedule(seed, args.faults, brokers, args.partitions, SESSION_TIMEOUT_MS / 1000, kinds)
    if args.broken:
        for f in plan:  # long enough for the in-sync set to shrink to the cut leader
            f["duration"] = max(f["duration"], 6.0)
    out = args.out or f"/tmp/samsa-chaos-{os.getpid()}"
    os.makedirs(out, exist_ok=True)
    say(f"chaos: seed {seed}, {len(plan)} faults over {brokers} brokers, {args.partitions} partitions, "
        f"{args.producers} producers at {args.rate:g}/s each{', BROKEN SETTINGS' if args.broken else ''}; "
        f"folder {out}")
    say(f"replay: {sys.argv[0]} --seed {seed} --faults {args.faults} --brokers {brokers}"
        + (f" --kinds {args.kinds}" if args.kinds else "") + (" --broken" if args.broken else ""))
    for f in plan:
        print("  " + nemesis_mod.describe(f), flush=True)

    def on_term(signum, frame):
        raise SystemExit(f"chaos: stopped by signal {signum}")
    signal.signal(signal.SIGTERM, on_term)

    handler = logging.FileHandler(os.path.join(out, "clients.log"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    clients.LOG.addHandler(handler)
    clients.LOG.propagate = False
    net = cl = None
    threads = []
    ok = False
    try:
        net = netns.Network()
        cl = cluster_mod.Cluster(net, out, os.path.abspath(args.server), brokers, broker_overrides(args.broken))
        cl.start()
        create_topic(cl.bootstrap, args.partitions)
        nem = nemesis_mod.Nemesis(cl, TOPIC, say)
        took = nem.wait_healthy(60)
        if took is None:
            raise RuntimeError("the cluster did not become healthy within 60 s of starting")
        say(f"cluster up: ZooKeeper {cl.zk.connect}, brokers {cl.bootstrap}")

        hist = os.path.join(out, "history")
        os.makedirs(hist, exist_ok=True)
        producers = [clients.ProducerThread(f"p{i}", cl.bootstrap, TOPIC, args.partitions, args.rate,
                                            os.path.join(hist, f"p{i}.jsonl"), broken=args.broken)
                     for i in range(1, args.producers + 1)]
        consumers = [clients.ConsumerThread("c-group", cl.bootstrap, TOPIC, args.partitions, "group",
                                            os.path.join(hist, "c-group.jsonl")),
                     clients.ConsumerThread("c-assign", cl.bootstrap, TOPIC, args.partitions, "assign",
                                            os.path.join(hist, "c-assign.jsonl"))]
        threads = producers + consumers
        for t in threads:
            t.start()
        time.sleep(3)

        windows = []
        unexpected = []           # brokers that stopped by themselves (status 1: a startup error)
        crashes = []              # ... or by a signal (an abort, a segfault): the run fails
        began = time.monotonic()
        for f in plan:
            start = clients.now()
            hit = nem.apply(f)
            say(f"{nemesis_mod.describe(f)}: {hit}; acknowledged so far {sum(p.acked for p in producers)}")
            time.sleep(f["gap"])
            for b in cl.brokers.values():
                if not b.alive():
                    rc = b.proc.returncode
                    unexpected.append(f"broker {b.broker_id} exited with status {rc} after fault #{f['n']}")
                    if rc < 0:                 # killed by a signal it raised itself: a crash
                        crashes.append(unexpected[-1])
                    say("UNEXPECTED: " + unexpected[-1] + "; restarting it")
                    b.start()
            nem.wait_healthy(args.recovery_timeout)
            windows.append([f["kind"], start, None])
            if len(windows) > 1:
                windows[-2][2] = start
        net.heal_all()
        for b in cl.brokers.values():
            if not b.alive():
                b.start()
        if nem.wait_healthy(120) is None:
            raise RuntimeError("the cluster did not heal within 120 s after the last fault")
        faults_took = time.monotonic() - began
        time.sleep(3)
        for t in producers:
            t.stopping.set()
        for t in producers:
            t.join(120)
        if windows:
            windows[-1][2] = clients.now()
        time.sleep(3)
        for t in consumers:
            t.stopping.set()
        for t in consumers:
            t.join(30)
        count, ends = clients.final_read(cl.bootstrap, TOPIC, args.partitions, os.path.join(hist, "final.jsonl"))
        say(f"faults done in {faults_took:.0f} s; final read: {count} records, partition ends {ends}")

        for b in cl.brokers.values():
            rc = b.terminate()
            if rc != 0:
                unexpected.append(f"broker {b.broker_id} stopped with status {rc} on SIGTERM")
        sanitizer = [f"broker {b.broker_id}" for b in cl.brokers.values() if SANITIZER_RE.search(b.log_text())]
        replicas = []
        for b in cl.brokers.values():
            replicas += replica_records(os.path.abspath(args.cli), b, args.partitions)

        events = []
        for path in sorted(glob.glob(os.path.join(hist, "*.jsonl"))):
            events += checker.read_jsonl(path)
        with open(os.path.join(out, "history.jsonl"), "w") as f:
            f.writelines(json.dumps(e) + "\n" for e in events)
        with open(os.path.join(out, "replicas.jsonl"), "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in replicas)
        found = checker.check(events, replicas)
        for c in checker.ORDER:
            for example in found[c][:10]:
                print(f"  {c}: {example}")
        worst = unavailability(events, [w for w in windows if w[2] is not None])
        kinds_done = collections.Counter(w[0] for w in windows)
        print("faults by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds_done.items())))
        print("longest unavailability per fault kind (s): "
              + ", ".join(f"{k} {v:.1f}" for k, v in sorted(worst.items())))
        errors = [e for e in events if e["type"] == "error"]
        for e in errors[:5]:
            print(f"  client error: {e['process']}: {e['error']}")
        for u in unexpected:
            print(f"  {u}")
        report = {"seed": seed, "faults": len(plan), "brokers": brokers, "broken": args.broken,
                  "counts": {c: len(found[c]) for c in checker.ORDER},
                  "acknowledged": sum(1 for e in events if e["type"] == "ack"),
                  "faults_by_kind": dict(kinds_done), "unavailability_s": worst,
                  "duration_s": round(faults_took), "unexpected": unexpected, "sanitizer": sanitizer,
                  "command": f"{sys.argv[0]} --seed {seed} --faults {args.faults} --brokers {brokers}"}
        for path in [os.path.join(out, "report.json")] + ([args.report] if args.report else []):
            with open(path, "w") as f:
                json.dump(report, f, indent=1)
        print(checker.summary(found, events) + f"; faults {len(plan)}, seed {seed}", flush=True)
        if sanitizer or crashes:
            print(f"chaos: sanitizer reports in the logs of {', '.join(sanitizer)}" if sanitizer
                  else f"chaos: brokers crashed: {'; '.join(crashes)}")
            return 1
        failing = any(found[c] for c in checker.FAILING)
        if args.broken:
            ok = bool(found["lost"])
            print("chaos: the broken settings lost acknowledged records, as they should"
                  if ok else "chaos: the broken settings lost nothing: the harness did not show it can fail")
            return 0 if ok else 1
        ok = not failing
        if not ok:
            for b in cl.brokers.values():   # the tmpfs goes at exit: keep the logs for reading
                shutil.copytree(b.data_dir, os.path.join(out, f"data-{b.broker_id}"), dirs_exist_ok=True)
        return 0 if ok else 1
    except (Exception, KeyboardInterrupt, SystemExit) as e:
        if isinstance(e, KeyboardInterrupt):
            say("chaos: interrupted; cleaning up")
        else:
            traceback.print_exc()
            say(f"chaos: the run could not be completed: {e}")
        return 2
    finally:
        for t in threads:
            t.stopping.set()
        if cl is not None:
            cl.close()
        if net is not None:
            net.close()
        with open("/proc/mounts") as f:       # a cluster that failed half-built
            for mount_point in [line.split()[1] for line in f if line.split()[1].startswith(out + "/")]:
                subprocess.run(["umount", "-l", mount_point], capture_output=True)
        if ok and not args.keep:
            shutil.rmtree(out, ignore_errors=True)
        else:
            say(f"chaos: the run's folder is kept: {out}")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Large topic operations on one samsa-server: create and delete a topic of N partitions while a
producer keeps sending, then the same with a kill -9 in the middle of each operation.

Not a test: it prints numbers. It starts its own broker (tests/interop/harness.py). A producer
thread (confluent-kafka, acks=1, linger.ms=0) sends one record at a time to a 1-partition topic
and waits for each acknowledgement; the longest wait during an operation is the "stall" it caused
for other clients (the baseline, measured first with nothing else running, is printed next to it).

Per operation it prints the time until the client got its answer, the time until the broker's
log says the work is done (for deletion: directories renamed, metadata removed), and the longest
produce stall. The kill -9 rounds print how long the restarted broker took to accept connections
and check that the half-created topic has all its partitions and the half-deleted one is gone.

Usage: /usr/bin/python3 bench/topic_ops.py [path/to/samsa-server] [--partitions N,N,...]
       (or SAMSA_SERVER=...). The broker budgets a descriptor per partition and refuses a
       creation beyond its limit: the script raises its own RLIMIT_NOFILE (inherited by the
       broker) to fit the largest N when it may, and prints the refusal when it may not.
"""

import argparse
import os
import resource
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "interop"))


class ProduceProbe:
    """Sends one record at a time and remembers when each wait started and how long it took."""

    def __init__(self, bootstrap, topic):
        from confluent_kafka import Producer
        self.p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "acks": 1,
                           "message.timeout.ms": 600000, "socket.timeout.ms": 300000})
        self.topic = topic
        self.samples = []  # (start, seconds)
        self.failures = 0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            done = threading.Event()
            err = []

            def cb(e, _m):
                if e is not None:
                    err.append(e)
                done.set()

            start = time.monotonic()
            self.p.produce(self.topic, b"x" * 100, callback=cb)
            while not done.is_set():
                self.p.poll(0.001)
            self.samples.append((start, time.monotonic() - start))
            if err:
                self.failures += 1

    def worst(self, t0, t1):
        """The longest wait that overlapped [t0, t1]."""
        w = [d for s, d in self.samples if s + d >= t0 and s <= t1]
        return max(w) if w else 0.0

    def count(self, t0, t1):
        return sum(1 for s, d in self.samples if t0 <= s <= t1)


def wait_log(broker, text, since, timeout=600):
    """Waits until `text` appears in the broker's log after byte `since`; returns when."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(broker._log_path, "rb") as f:
            f.seek(since)
            if text.encode() in f.read():
                return time.monotonic()
        time.sleep(0.02)
    raise RuntimeError(f"broker never logged {text!r}")


def log_size(broker):
    return os.path.getsize(broker._log_path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server", nargs="?")
    ap.add_argument("--partitions", default="1000,2000,5000,10000", help="comma-separated sizes")
    args = ap.parse_args()
    if args.server:
        os.environ["SAMSA_SERVER"] = args.server
    import harness
    from confluent_kafka.admin import AdminClient, NewTopic

    want = max(int(x) for x in args.partitions.split(",")) + 4096
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, soft), max(want, hard)))
        except (ValueError, OSError) as e:
            print(f"cannot raise RLIMIT_NOFILE to {want}: {e}; the broker may refuse the topic", file=sys.stderr)
    print(f"RLIMIT_NOFILE {resource.getrlimit(resource.RLIMIT_NOFILE)}; binary {harness.server_binary()}")

    sizes = [int(x) for x in args.partitions.split(",")]
    broker = harness.Broker({"num.partitions": 1, "auto.create.topics.enable": "false"}, name="topic-ops-bench")
    try:
        broker.start()
        boot = f"127.0.0.1:{broker.port}"
        admin = AdminClient({"bootstrap.servers": boot})

        def create(name, n):
            fs = admin.create_topics([NewTopic(name, n, 1)], operation_timeout=600, request_timeout=600)
            fs[name].result()

        def delete(name):
            fs = admin.delete_topics([name], operation_timeout=600, request_timeout=600)
            fs[name].result()

        admin.create_topics([NewTopic("probe", 1, 1)])["probe"].result()
        probe = ProduceProbe(boot, "probe")
        probe.t.start()
        time.sleep(3)
        b0 = time.monotonic()
        time.sleep(3)
        base = probe.worst(b0, time.monotonic())

        rows = []
        largest = 0
        for n in sizes:
            for op in ("create", "delete"):
                since = log_size(broker)
                t0 = time.monotonic()
                try:
                    create("big", n) if op == "create" else delete("big")
                except Exception as e:  # refused: beyond this machine's descriptor budget
                    rows.append((n, op, None, None, None, None, str(e)))
                    break
                t1 = time.monotonic()
                t2 = wait_log(broker, f"created topic big with {n} partition" if op == "create" else "deleted topic big",
                              since)
                time.sleep(1)
                rows.append((n, op, t1 - t0, max(t1, t2) - t0, probe.worst(t0, max(t1, t2)), probe.count(t0, t1), ""))
                largest = max(largest, n)
        probe.stop.set()
        probe.t.join()

        print(f"\none broker; produce stall baseline (6 s idle): {base * 1000:.1f} ms")
        print(f"{'partitions':>10} {'operation':<10} {'answered s':>11} {'done s':>8} {'worst produce stall ms':>23} "
              f"{'produces during':>16}")
        for n, op, ans, done, stall, cnt, err in rows:
            if err:
                print(f"{n:>10} {op:<10} refused: {err}")
                continue
            print(f"{n:>10} {op:<10} {ans:>11.2f} {done:>8.2f} {stall * 1000:>23.1f} {cnt:>16}")
        if probe.failures:
            print(f"produce failures: {probe.failures}")
        if not largest:
            return

        # kill -9 in the middle of each operation, then restart.
        n = largest
        print(f"\nkill -9 during the operation ({n} partitions), then restart:")
        for op in ("create", "delete"):
            since = log_size(broker)
            if op == "create":
                threading.Thread(target=lambda: _quiet(create, "big", n), daemon=True).start()
                wait_log(broker, "created topic big", since)
            else:
                create("big", n)
                threading.Thread(target=lambda: _quiet(delete, "big"), daemon=True).start()
                wait_log(broker, "deleting topic big", since)
            time.sleep(0.3)
            broker.kill()
            t0 = time.monotonic()
            broker.restart()
            up = time.monotonic() - t0
            md = admin.list_topics(timeout=30)
            big = md.topics.get("big")
            parts = len(big.partitions) if big is not None and big.error is None else 0
            state = f"topic has {parts} partitions" if op == "create" else ("topic gone" if big is None else "TOPIC STILL THERE")
            if op == "create":
                delete("big")
            print(f"  {op}: restarted and accepting after {up:.2f} s; {state}")
    finally:
        broker.close()


def _quiet(fn, *a):
    try:
        fn(*a)
    except Exception:  # the broker is killed under it
        pass


if __name__ == "__main__":
    main()

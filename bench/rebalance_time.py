#!/usr/bin/python3
"""Consumer-group rebalance timing against samsa-server, with librdkafka (confluent-kafka) members.

Not a test: it prints numbers. It starts its own broker (tests/interop/harness.py) with
group.initial.rebalance.delay.ms=0, creates a 6-partition topic and, for each trial, a fresh group
of 3 members, each a separate child process (session.timeout.ms=6000, heartbeat.interval.ms=1000)
that reports its assignment changes with timestamps. Per trial it measures the time from
  (a) one member's clean close() (LeaveGroup), or
  (b) SIGKILL of one member's process (the broker has to notice the missing heartbeats),
until the two remaining members own all 6 partitions, and prints min / median / max of each.

Usage: /usr/bin/python3 bench/rebalance_time.py [path/to/samsa-server] [--trials N]
       (or SAMSA_SERVER=path/to/samsa-server; /usr/bin/python3 is the interpreter that sees
       python3-confluent-kafka)
"""

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time

SESSION_TIMEOUT_MS = 6000
HEARTBEAT_MS = 1000
PARTITIONS = 6
TOPIC = "rebalance-bench"


def member_main(bootstrap, group, name):
    """Child process: one group member. Prints {"t", "ev", "partitions"} lines; "close" on stdin
    closes it cleanly."""
    from confluent_kafka import Consumer

    def report(ev, tps):
        print(json.dumps({"t": time.time(), "ev": ev, "partitions": [tp.partition for tp in tps]}), flush=True)

    closing = threading.Event()

    def read_stdin():
        for line in sys.stdin:
            if line.strip() == "close":
                break
        closing.set()

    threading.Thread(target=read_stdin, daemon=True).start()
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "client.id": name,
                  "session.timeout.ms": SESSION_TIMEOUT_MS, "heartbeat.interval.ms": HEARTBEAT_MS,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    c.subscribe([TOPIC], on_assign=lambda _, tps: report("assign", tps),
                on_revoke=lambda _, tps: report("revoke", tps), on_lost=lambda _, tps: report("revoke", tps))
    while not closing.is_set():
        c.poll(0.05)
    c.close()
    print(json.dumps({"t": time.time(), "ev": "closed", "partitions": []}), flush=True)


class Member:
    """Parent side of one member process: follows its assignment from the reported events."""

    def __init__(self, bootstrap, group, name):
        self.name = name
        self.owned = set()
        self.changed_at = None
        self.lock = threading.Lock()
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--member", bootstrap, group, name],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            ev = json.loads(line)
            with self.lock:
                if ev["ev"] == "assign":
                    self.owned |= set(ev["partitions"])
                elif ev["ev"] == "revoke":
                    self.owned -= set(ev["partitions"])
                self.changed_at = ev["t"]

    def state(self):
        with self.lock:
            return set(self.owned), self.changed_at

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("close\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)

    def kill(self):
        self.proc.kill()
        self.proc.wait()


def wait_owning(members, per, timeout=60.0):
    """Waits until each member owns `per` partitions, together all; returns when the last of them
    got its final assignment (the member's own timestamp)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [m.state() for m in members]
        sets = [s for s, _ in states]
        if all(len(s) == per for s in sets) and set().union(*sets) == set(range(PARTITIONS)):
            return max(t for _, t in states)
        time.sleep(0.01)
    raise RuntimeError(f"members {[m.name for m in members]} did not settle on {per} partitions each: "
                       f"{[m.state()[0] for m in members]}")


def trial(bootstrap, n, how):
    group = f"bench-{how}-{n}"
    members = [Member(bootstrap, group, f"{group}-m{i}") for i in range(3)]
    try:
        wait_owning(members, 2)
        # A steady group, then a random moment within the heartbeat cycle: the others notice a
        # rebalance at their next heartbeat, so a fixed delay would always hit the same phase.
        time.sleep(1.5 + random.uniform(0, HEARTBEAT_MS / 1000))
        began = time.time()
        if how == "close":
            members[0].close()
        else:
            members[0].kill()
        return wait_owning(members[1:], 3) - began
    finally:
        for m in members[1:]:
            m.close()
        if members[0].proc.poll() is None:
            members[0].kill()


def summary(label, values):
    print(f"{label}: min {min(values):.2f} s, median {statistics.median(values):.2f} s, max {max(values):.2f} s "
          f"({', '.join(f'{v:.2f}' for v in values)})")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--member":
        return member_main(*sys.argv[2:])
    ap = argparse.ArgumentParser(description="consumer-group rebalance timing (prints numbers)")
    ap.add_argument("server", nargs="?", default=os.environ.get("SAMSA_SERVER"), help="samsa-server binary")
    ap.add_argument("--trials", type=int, default=5)
    args = ap.parse_args()
    if not args.server:
        ap.error("give the samsa-server path as an argument or in SAMSA_SERVER")
    os.environ["SAMSA_SERVER"] = args.server
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "interop"))
    import harness
    from confluent_kafka.admin import AdminClient, NewTopic

    broker = harness.Broker({"group.initial.rebalance.delay.ms": 0, "offsets.topic.num.partitions": 5},
                            name="rebalance-bench")
    try:
        broker.start()
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        for fut in admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=1)]).values():
            fut.result(timeout=30)
        results = {"close": [], "kill": []}
        for n in range(args.trials):
            for how in results:
                results[how].append(trial(broker.bootstrap, n, how))
                print(f"  trial {n + 1} {how}: {results[how][-1]:.2f} s", file=sys.stderr, flush=True)
        print(f"samsa-server {args.server}; librdkafka members: session.timeout.ms={SESSION_TIMEOUT_MS}, "
              f"heartbeat.interval.ms={HEARTBEAT_MS}; group.initial.rebalance.delay.ms=0; "
              f"3 members, {PARTITIONS} partitions, {args.trials} trials")
        summary("(a) clean close() -> the other two own all partitions", results["close"])
        summary("(b) SIGKILL of a member process -> the other two own all partitions", results["kill"])
    finally:
        broker.close()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()

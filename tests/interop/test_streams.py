"""Kafka Streams 4.x against Samsa: tests/interop/java's WordCount (a repartition topic, a
RocksDB store with its compacted changelog, a windowed count), under at_least_once and under
exactly_once_v2. Half the input is processed, the application is SIGKILLed mid-stream, the rest
of the input arrives, the application restarts on the same state directory. The output must be
complete (every word's final count, every window's); under exactly_once_v2 each word's and
each window's count updates, read with read_committed, are exactly 1, 2, ..., n: nothing
counted twice, nothing lost, although the crash left transactions open.
"""

import collections
import os
import random
import signal
import struct
import subprocess
import tempfile
import threading
import time

import harness
from harness import BrokerTestCase

confluent_kafka = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

WORDS = [f"w{i:02d}" for i in range(20)]
LINES = 2400
WINDOW_MS = 10_000


class App:
    """The WordCount process; stdout is watched for its RUNNING line."""

    def __init__(self, bootstrap, app_id, guarantee, state_dir, topic_in, topic_out):
        self.args = (bootstrap, app_id, guarantee, state_dir, topic_in, topic_out)
        self.proc = None
        self.running = threading.Event()
        self.log = os.path.join(state_dir, "app.log")

    def start(self):
        self.running.clear()
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(harness.java_command(*self.args, main="WordCount"), stdout=subprocess.PIPE,
                                     stderr=log, preexec_fn=harness._die_with_parent)
        log.close()
        threading.Thread(target=self._watch, args=(self.proc,), daemon=True).start()
        return self

    def _watch(self, proc):
        with proc.stdout:
            for line in proc.stdout:
                if line.strip() == b"RUNNING":
                    self.running.set()

    def wait_running(self, timeout=120):
        if not self.running.wait(timeout):
            raise AssertionError(f"the Streams application is not RUNNING after {timeout} s:\n{self.log_tail()}")

    def log_tail(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")[-3000:]

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the Streams application did not stop within 60 s of SIGTERM")


class Streams(BrokerTestCase):
    overrides = {"offsets.topic.num.partitions": 2, "transaction.state.log.num.partitions": 2,
                 "log.segment.bytes": 512 * 1024}

    def lines(self):
        rng = random.Random(17)
        base = int(time.time() * 1000) - LINES * 50 - 60_000
        return [(i, " ".join(rng.choice(WORDS) for _ in range(5)), base + i * 50) for i in range(LINES)]

    def produce(self, topic, lines):
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "acks": "all", "enable.idempotence": True})
        for i, line, ts in lines:
            p.produce(topic, key=str(i).encode(), value=line.encode(), timestamp=ts)
        self.assertEqual(p.flush(60), 0)

    def read_updates(self, topic):
        """{key: [count updates in order]} of a count output topic, read_committed."""
        got = harness.consume_to_end({"bootstrap.servers": self.broker.bootstrap, "group.id": f"check-{topic}-{time.time()}",
                                      "isolation.level": "read_committed"}, topic, timeout=90)
        out = collections.defaultdict(list)
        for m in sorted(got, key=lambda m: (m.partition(), m.offset())):
            out[m.key().decode()].append(struct.unpack(">q", m.value())[0])
        return out

    def run_with_a_crash(self, guarantee):
        name = f"wc-{guarantee.replace('_', '-')}"
        topic_in, topic_out = f"{name}-in", f"{name}-out"
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        for f in admin.create_topics([NewTopic(t, 3, 1) for t in (topic_in, topic_out, topic_out + "-windowed")]).values():
            f.result(30)
        lines = self.lines()
        expected = collections.Counter(w for _, line, _ in lines for w in line.split())
        expected_windows = collections.Counter(f"{w}@{ts - ts % WINDOW_MS}" for _, line, ts in lines for w in line.split())
        state = tempfile.mkdtemp(prefix=f"samsa-streams-{name}-", dir=self.broker.tmp)
        app = App(self.broker.bootstrap, name, guarantee, state, topic_in, topic_out).start()
        try:
            app.wait_running()
            self.produce(topic_in, lines[:LINES // 2])
            # Mid-stream: some output is there, not all of the first half yet processed.
            deadline = time.monotonic() + 90
            while sum(len(v) for v in self.read_updates(topic_out).values()) < LINES // 4:
                self.assertLess(time.monotonic(), deadline, f"no progress\n{app.log_tail()}")
                time.sleep(0.2)
            app.kill()
            self.produce(topic_in, lines[LINES // 2:])
            app.start()
            app.wait_running()
            deadline = time.monotonic() + 180
            while True:
                updates = self.read_updates(topic_out)
                if all(max(updates.get(w, [0])) >= n for w, n in expected.items()):
                    break
                self.assertLess(time.monotonic(), deadline, f"the counts never completed\n{app.log_tail()}")
                time.sleep(1)
            windows = self.read_updates(topic_out + "-windowed")
            self.assertIn(app.stop(), (0, 128 + signal.SIGTERM), app.log_tail())  # the JVM exits 143 after its hooks
        finally:
            if app.proc.poll() is None:
                app.kill()
        return expected, expected_windows, updates, windows

    def test_at_least_once_is_complete_after_a_crash(self):
        expected, expected_windows, updates, windows = self.run_with_a_crash("at_least_once")
        for w, n in expected.items():
            self.assertGreaterEqual(max(updates[w]), n, w)        # replays may count some twice
        for k, n in expected_windows.items():
            self.assertGreaterEqual(max(windows.get(k, [0])), n, k)

    def test_exactly_once_v2_has_no_duplicates_after_a_crash(self):
        expected, expected_windows, updates, windows = self.run_with_a_crash("exactly_once_v2")
        self.assertEqual(set(updates), set(expected))
        for w, n in expected.items():
            self.assertEqual(updates[w], list(range(1, n + 1)), f"count updates of {w}")
        self.assertEqual(set(windows), set(expected_windows))
        for k, n in expected_windows.items():
            self.assertEqual(windows[k], list(range(1, n + 1)), f"count updates of window {k}")


if __name__ == "__main__":
    harness.main()

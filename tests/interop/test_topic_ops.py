#!/usr/bin/python3
"""Large topic operations (confluent-kafka's admin client, raw ApiVersions probes): they are
refused beyond the broker's descriptor budget with a message naming the limit, they do not stop
the broker answering other clients while they run, and a broker killed in the middle of one
restarts and finishes (creation) or completes (deletion) it.

The numbers of bench/topic_ops.py come from the same operations at 10,000 partitions."""

import os
import struct
import threading
import time
import unittest

import harness
from harness import Broker

ck = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic  # noqa: E402

# Enough partitions that the old per-partition checkpoint rewrite (quadratic) stalled the broker
# for about a minute on deletion; small enough for the sanitizer build.
LARGE = 2000
# Generous: a probe normally answers in milliseconds; before, it waited for the whole operation.
PROBE_LIMIT_S = 5.0


class Prober:
    """Sends ApiVersions on its own connection every 50 ms and records each round trip."""

    def __init__(self, broker):
        self.broker = broker
        self.worst = 0.0
        self.count = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        s = self.broker.connect(timeout=60)
        corr = 0
        while not self.stop.is_set():
            corr += 1
            t0 = time.monotonic()
            s.sendall(harness.frame(harness.request_header_v1(18, 0, corr)))
            resp = harness.recv_frame(s)
            self.worst = max(self.worst, time.monotonic() - t0)
            self.count += 1
            assert struct.unpack(">i", resp[:4])[0] == corr
            time.sleep(0.05)
        s.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)


def admin_for(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def create(admin, name, partitions, validate_only=False, timeout=300):
    fs = admin.create_topics([NewTopic(name, partitions, 1)], operation_timeout=timeout, request_timeout=timeout,
                             validate_only=validate_only)
    return fs[name].result()


def delete(admin, name, timeout=300):
    admin.delete_topics([name], operation_timeout=timeout, request_timeout=timeout)[name].result()


def kafka_error_of(fn):
    try:
        fn()
    except ck.KafkaException as e:
        return e.args[0]
    raise AssertionError("the operation succeeded")


def wait_for_log(broker, text, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in broker.log_text():
            return
        time.sleep(0.02)
    raise AssertionError(f"the broker never logged {text!r}\n{broker.log_tail()}")


class DescriptorBudget(unittest.TestCase):
    def test_limit_is_logged_and_creations_beyond_it_are_refused_at_once(self):
        b = Broker(name="fd-budget")
        self.addCleanup(b.close)
        b.nofile = (1024, 1024)  # Debian's default soft limit, with nothing to raise it to
        b.start()
        self.assertIn("open file limit: soft 1024, hard 1024", b.log_text())
        admin = admin_for(b)
        for validate_only in (True, False):
            # librdkafka sends at most 100,000; test_wire_limits sends 2^31-1 in a raw request.
            for count in (1100, 100000):
                t0 = time.monotonic()
                err = kafka_error_of(lambda: create(admin, "too-big", count, validate_only))
                self.assertEqual(err.code(), ck.KafkaError.INVALID_PARTITIONS, err)
                self.assertIn("open-file limit of 1024", err.str())
                self.assertLess(time.monotonic() - t0, 10, "refusing must not wait for anything")
        self.assertGreater(b.rss_kib(), 0)
        self.assertLess(b.rss_kib(), 1024 * 1024, "nothing was allocated for the refused partitions")
        # What fits is created; growing it beyond the budget is refused the same way.
        create(admin, "fits", 50)
        err = kafka_error_of(lambda: admin.create_partitions([NewPartitions("fits", 2000)])["fits"].result())
        self.assertEqual(err.code(), ck.KafkaError.INVALID_PARTITIONS, err)
        md = admin.list_topics(timeout=10)
        self.assertNotIn("too-big", md.topics)
        self.assertEqual(len(md.topics["fits"].partitions), 50)
        b.check_log_clean()

    def test_soft_limit_is_raised_to_the_hard_limit(self):
        b = Broker(name="fd-raise")
        self.addCleanup(b.close)
        b.nofile = (1024, 4096)
        b.start()
        self.assertIn("open file limit: soft 4096 (raised from 1024), hard 4096", b.log_text())
        with open(f"/proc/{b.pid}/limits") as f:
            line = next(x for x in f if x.startswith("Max open files"))
        self.assertEqual(line.split()[3:5], ["4096", "4096"])


class LargeOperations(harness.BrokerTestCase):
    # librdkafka refreshes the metadata of topics it has seen: that must not re-create "large".
    overrides = {"auto.create.topics.enable": "false"}

    def test_create_and_delete_keep_the_broker_answering(self):
        admin = admin_for(self.broker)
        with Prober(self.broker) as p:
            create(admin, "large", LARGE)
            md = admin.list_topics("large", timeout=30)
            self.assertEqual(len(md.topics["large"].partitions), LARGE)
            self.assertTrue(all(pm.leader == 0 and pm.error is None for pm in md.topics["large"].partitions.values()))
            delete(admin, "large")
        self.assertGreater(p.count, 0)
        self.assertLess(p.worst, PROBE_LIMIT_S, f"an ApiVersions probe waited {p.worst:.1f} s")
        self.assertNotIn("large", admin.list_topics(timeout=10).topics)
        leftovers = [d for d in os.listdir(self.broker.data_dir) if d.startswith("large-")]
        deadline = time.monotonic() + 60
        while leftovers and time.monotonic() < deadline:  # removed on a background thread
            time.sleep(0.1)
            leftovers = [d for d in os.listdir(self.broker.data_dir) if d.startswith("large-")]
        self.assertEqual(leftovers, [])
        # The name is free again once the deletion has been answered.
        create(admin, "large", 3)
        self.assertEqual(len(admin.list_topics("large", timeout=10).topics["large"].partitions), 3)
        delete(admin, "large")


class KilledMidOperation(unittest.TestCase):
    def setUp(self):
        self.b = Broker(name="topic-kill")
        self.addCleanup(self.b.close)
        self.b.start()

    def background(self, fn):
        def run():
            try:
                fn()
            except Exception:  # the broker dies under it
                pass
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def test_kill_during_creation_then_restart_has_every_partition(self):
        admin = admin_for(self.b)
        self.background(lambda: create(admin, "half", LARGE))
        wait_for_log(self.b, "created topic half")
        time.sleep(0.2)
        self.b.kill()
        opened = sum(1 for d in os.listdir(self.b.data_dir) if d.startswith("half-"))
        self.b.restart()
        admin = admin_for(self.b)
        md = admin.list_topics("half", timeout=30)
        self.assertEqual(len(md.topics["half"].partitions), LARGE, f"{opened} logs existed at the kill")
        # The broker serves at once and creates the missing logs in steps: each partition gets
        # its leader once its log exists.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            parts = admin.list_topics("half", timeout=30).topics["half"].partitions.values()
            if all(p.leader == 0 and p.error is None for p in parts):
                break
            time.sleep(0.2)
        else:
            self.fail(f"not every partition got its log\n{self.b.log_tail()}")
        dirs = sum(1 for d in os.listdir(self.b.data_dir) if d.startswith("half-"))
        self.assertEqual(dirs, LARGE)

    def test_kill_during_deletion_then_restart_has_it_gone(self):
        admin = admin_for(self.b)
        create(admin, "doomed", LARGE)
        self.background(lambda: delete(admin, "doomed"))
        wait_for_log(self.b, "deleting topic doomed")
        self.b.kill()
        self.b.restart()
        admin = admin_for(self.b)
        self.assertNotIn("doomed", admin.list_topics(timeout=30).topics)
        left = [d for d in os.listdir(self.b.data_dir) if d.startswith("doomed-") and not d.endswith("-delete")]
        self.assertEqual(left, [])
        create(admin, "doomed", 2)  # and the name can be used again
        self.assertEqual(len(admin.list_topics("doomed", timeout=10).topics["doomed"].partitions), 2)

    def test_sigterm_during_creation_stops_promptly_and_the_restart_finishes_it(self):
        admin = admin_for(self.b)
        self.background(lambda: create(admin, "stopped", LARGE))
        wait_for_log(self.b, "created topic stopped")
        self.b.stop(timeout=30)  # a clean exit (status 0) while partitions are still queued
        self.b.restart()
        admin = admin_for(self.b)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            parts = admin.list_topics("stopped", timeout=30).topics["stopped"].partitions.values()
            if len(parts) == LARGE and all(p.leader == 0 and p.error is None for p in parts):
                break
            time.sleep(0.2)
        else:
            self.fail(f"not every partition got its log\n{self.b.log_tail()}")


if __name__ == "__main__":
    harness.main()

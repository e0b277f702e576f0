#!/usr/bin/python3
"""Controlled shutdown on three samsa-server brokers coordinated by a real ZooKeeper.

A rolling restart under load: an idempotent confluent-kafka (librdkafka) producer writes with
acks=all to a topic of six partitions, replication factor 3 and min.insync.replicas=2, while
each broker in turn gets SIGTERM, stops and comes back. On SIGTERM a broker asks the
controller (ControlledShutdown) to move its leadership and in-sync memberships away before it
stops, so the producer sees at most retriable errors (it retries them itself: no delivery
fails), no stopping broker waits for followers that cannot fetch, and every acknowledged record
is read back exactly once, in the order of its partition. Afterwards the controller's leader
imbalance check (checked every second here) gives each partition back to its preferred replica.

Run alone: SAMSA_CLI=build/ci/src/cli/samsa SAMSA_SERVER=build/ci/src/app/samsa-server \
    /usr/bin/python3 tests/interop/test_failover.py
"""

import threading
import time
import unittest

import harness
from zk_cluster import start_three_brokers, wait_until
from test_zk_cluster import topic_view

ck = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

PARTITIONS = 6
# leader.imbalance.per.broker.percentage 0: one partition away from its preferred leader is an
# imbalance (at Kafka's default of 10 a broker preferred for 20 partitions, __consumer_offsets'
# among them, may keep one elsewhere, as happened when a replica rejoined the ISR just after the
# check that moved the others back).
EXTRA = {"controlled.shutdown.retry.backoff.ms": "500", "leader.imbalance.check.interval.seconds": "1",
         "leader.imbalance.per.broker.percentage": "0"}


class ControlledShutdown(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_three_brokers(cls, EXTRA, "failover")
        cls.boot = [cls.brokers[i].bootstrap for i in (1, 2, 3)]
        cls.all = ",".join(cls.boot)

    def tearDown(self):
        for i, b in self.brokers.items():
            self.assertNotRegex(b.log_text(), harness.SANITIZER_RE)

    def view(self, topic, via=None):
        return topic_view(via or self.boot[0], topic)

    def test_rolling_restart_under_acks_all_load(self):
        topic = "rolling"
        admin = AdminClient({"bootstrap.servers": self.all})
        fut = admin.create_topics([NewTopic(topic, PARTITIONS, 3, config={"min.insync.replicas": "2"})],
                                  operation_timeout=30, request_timeout=30)[topic]
        fut.result(timeout=40)
        wait_until("every partition led with three in-sync replicas", lambda: (
            v := self.view(topic)) and len(v) == PARTITIONS and all(len(x[2]) == 3 for x in v.values()), timeout=30)

        acked, failed, errors = [], [], []
        lock = threading.Lock()
        stop = threading.Event()

        def on_delivery(err, msg):
            with lock:
                if err is not None:
                    failed.append((msg.value().decode(), str(err)))
                else:
                    acked.append((msg.partition(), msg.offset(), msg.value().decode()))

        def produce():
            p = Producer({"bootstrap.servers": self.all, "acks": "all", "enable.idempotence": True,
                          "linger.ms": 2, "message.timeout.ms": 60000,
                          "error_cb": lambda e: errors.append(str(e))})
            i = 0
            while not stop.is_set():
                p.produce(topic, value=f"v{i}", partition=i % PARTITIONS, on_delivery=on_delivery)
                i += 1
                p.poll(0)
                time.sleep(0.0005)
            left = p.flush(60)
            with lock:
                failed.extend([("unflushed", str(left))] if left else [])

        t = threading.Thread(target=produce)
        t.start()
        try:
            time.sleep(1.0)
            for i in (1, 2, 3):
                b = self.brokers[i]
                led_before = [p for p, v in self.view(topic).items() if v[0] == i]
                began = time.monotonic()
                b.stop()  # SIGTERM, and a clean exit within the harness's limit
                took = time.monotonic() - began
                self.assertIn("controlled shutdown succeeded", b.log_text())
                print(f"broker {i}: led {len(led_before)} partition(s), stopped in {took:.2f} s", flush=True)
                live = self.boot[i % 3]
                # (Metadata reaches the other brokers a moment later: polled.)
                wait_until(f"no partition led by broker {i} or with it in sync", lambda: all(
                    v[0] != i and i not in v[2] for v in self.view(topic, live).values()), timeout=15)
                time.sleep(0.5)  # load runs against the other two
                b.restart()
                wait_until(f"broker {i} back in every in-sync set", lambda: all(
                    i in v[2] for v in self.view(topic, live).values()), timeout=60)
                time.sleep(0.5)
        finally:
            stop.set()
            t.join(120)
        self.assertEqual(failed[:5], [], f"{len(failed)} deliveries failed during the rolling restart; the "
                         f"producer's errors: {errors[:5]}")
        self.assertGreater(len(acked), 1000)
        # Every acknowledged record exactly once, at its acknowledged offset.
        seen = {}
        for m in harness.consume_to_end({"bootstrap.servers": self.all, "group.id": "rolling-check",
                                         "enable.auto.commit": False, "auto.offset.reset": "earliest"},
                                        topic, range(PARTITIONS)):
            seen.setdefault(m.value().decode(), []).append((m.partition(), m.offset()))
        dups = {v: at for v, at in seen.items() if len(at) > 1}
        self.assertEqual(dups, {}, "records written twice")
        # librdkafka reports a record acknowledged by a later batch's answer (its own retry was
        # cut off by the leader moving) without an offset: then only its partition is known.
        lost = [(p, o, v, seen.get(v)) for p, o, v in acked
                if not seen.get(v) or seen[v][0][0] != p or (o is not None and seen[v] != [(p, o)])]
        self.assertEqual(lost, [], f"{len(lost)} acknowledged record(s) missing or moved (acked at, seen at)")
        # auto.leader.rebalance.enable (the default): once back in sync, every partition is led by
        # its preferred (first) replica again.
        try:
            wait_until("every partition led by its preferred replica", lambda: all(
                v[0] == v[1][0] for v in self.view(topic).values()), timeout=60)
        except AssertionError as e:
            # Failed twice under the full suite's load (never alone): what the cluster looked like.
            lines = []
            for i, b in self.brokers.items():
                ctl = [l for l in b.log_text().splitlines() if "[controller]" in l or "[cluster]" in l]
                lines += [f"broker {i}: {l}" for l in ctl[-12:]]
            raise AssertionError(f"{e}; partitions (leader, replicas, isr): {self.view(topic)}\n" +
                                 "\n".join(lines)) from None

    def test_2_a_zookeeper_outage_leaves_produce_and_fetch_running(self):
        topic = "zk-outage"
        admin = AdminClient({"bootstrap.servers": self.all})
        admin.create_topics([NewTopic(topic, 3, 3, config={"min.insync.replicas": "2"})],
                            operation_timeout=30, request_timeout=30)[topic].result(timeout=40)
        wait_until("three in-sync replicas", lambda: (v := self.view(topic)) and len(v) == 3 and
                   all(len(x[2]) == 3 for x in v.values()), timeout=30)
        # A running idempotent producer (its producer id came from a block allocated in ZooKeeper,
        # as in Kafka) and a new plain acks=all one.
        p = Producer({"bootstrap.servers": self.all, "acks": "all", "enable.idempotence": True,
                      "message.timeout.ms": 20000})
        p.produce(topic, b"before", partition=0)
        self.assertEqual(p.flush(30), 0)
        self.zk.stop()
        try:
            # Leadership needs no change: acks=all produce and fetch go on without ZooKeeper.
            plain = Producer({"bootstrap.servers": self.all, "acks": "all", "message.timeout.ms": 20000})
            for i in range(50):
                plain.produce(topic, f"plain-{i}".encode(), partition=i % 3)
            self.assertEqual(plain.flush(30), 0)
            failed = []
            for i in range(300):
                p.produce(topic, f"zk-down-{i}".encode(), partition=i % 3,
                          on_delivery=lambda err, msg: err and failed.append(err))
            self.assertEqual(p.flush(30), 0)
            self.assertEqual(failed, [])
            got = harness.consume_to_end({"bootstrap.servers": self.all, "group.id": "zk-outage"}, topic)
            self.assertEqual(sorted(m.value().decode() for m in got), sorted(
                ["before"] + [f"plain-{i}" for i in range(50)] + [f"zk-down-{i}" for i in range(300)]))
            time.sleep(2)  # the outage lasts a while longer with nothing going on: brokers idle without ZooKeeper
        finally:
            self.zk.start()
        for b in self.brokers.values():
            self.assertTrue(b.alive(), f"{b.name} survived the outage")
        # Back: the brokers' sessions resume, and the control plane works again.
        fut = admin.create_topics([NewTopic("after-zk-outage", 3, 3)], operation_timeout=30, request_timeout=30)
        fut["after-zk-outage"].result(timeout=60)
        wait_until("the new topic led on every broker", lambda: all(
            (v := self.view("after-zk-outage", b)) and len(v) == 3 and all(x[0] > 0 for x in v.values())
            for b in self.boot), timeout=60)


if __name__ == "__main__":
    harness.main()

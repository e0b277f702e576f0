#!/usr/bin/python3
"""Clients recovering by themselves from a leader's death, on three samsa-server brokers and a
real ZooKeeper: kafka-python, confluent-kafka (librdkafka) and kafkajs each write with acks=all
and retries to a partition of replication factor 3 (min.insync.replicas 2) while its leader is
killed with SIGKILL. The controller moves leadership to an in-sync follower once the dead
broker's ZooKeeper session expires; each client finds the new leader through its own metadata
refresh (on the lost connection or NOT_LEADER_OR_FOLLOWER) and carries on: every record it was
told is acknowledged is read back afterwards (no acknowledged record lost), and nothing failed.

Run alone: SAMSA_CLI=build/ci/src/cli/samsa SAMSA_SERVER=build/ci/src/app/samsa-server \
    /usr/bin/python3 tests/interop/test_client_failover.py
"""

import json
import os
import subprocess
import threading
import time
import unittest

import harness
from zk_cluster import start_three_brokers, wait_until
from test_zk_cluster import topic_view

ck = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from kafka import KafkaProducer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")


class ClientFailover(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_three_brokers(cls, {}, "client-failover")
        cls.boot = {i: cls.brokers[i].bootstrap for i in (1, 2, 3)}
        cls.all = ",".join(cls.boot.values())

    def setUp(self):
        # A test that failed before restarting its killed broker leaves it down.
        for b in self.brokers.values():
            if not b.alive():
                b.restart()

    def tearDown(self):
        for b in self.brokers.values():
            self.assertNotRegex(b.log_text(), harness.SANITIZER_RE)

    def view(self, topic):
        for b in self.brokers.values():
            if b.alive():
                v = topic_view(b.bootstrap, topic)
                if v:
                    return v

    def prepare(self, topic):
        admin = AdminClient({"bootstrap.servers": self.all})
        admin.create_topics([NewTopic(topic, 1, 3, config={"min.insync.replicas": "2"})],
                            operation_timeout=30, request_timeout=30)[topic].result(timeout=40)
        v = wait_until("three in-sync replicas", lambda: (v := self.view(topic)) and len(v[0][2]) == 3 and v)
        leader = v[0][0]
        survivor = next(i for i in (1, 2, 3) if i != leader)
        return leader, survivor

    def kill_when(self, leader, progressed):
        """Kills `leader` once the client has made progress."""
        wait_until("the client to have written something", progressed, timeout=60)
        self.brokers[leader].kill()

    def run_through_kill(self, topic, leader, produce, acked, failed, count=3000):
        """Runs `produce` (which writes `count` records, filling `acked` and `failed`) in a
        thread, kills the leader once it is under way, then checks what it was told."""
        t = threading.Thread(target=produce)
        t.start()
        self.kill_when(leader, lambda: len(acked) > 100)
        t.join(180)
        self.assertEqual(failed, [])
        self.assertEqual(len(acked), count)
        self.check(topic, acked, leader)

    def check(self, topic, acked, leader):
        self.brokers[leader].restart()
        wait_until("the killed broker back in sync", lambda: (v := self.view(topic)) and len(v[0][2]) == 3, timeout=60)
        got = harness.consume_to_end({"bootstrap.servers": self.all, "group.id": f"check-{topic}"}, topic)
        read = {m.value().decode() for m in got}
        missing = [v for v in acked if v not in read]
        self.assertEqual(missing, [], f"{len(missing)} acknowledged record(s) lost")
        self.assertNotEqual(self.view(topic)[0][0], -1)

    def test_kafka_python(self):
        topic = "cf-kafka-python"
        leader, survivor = self.prepare(topic)
        acked, failed = [], []

        def produce():
            # kafka-python expires a batch waiting for a leader after request_timeout_ms: above
            # the failover time (the dead broker's ZooKeeper session, 6 s here, then an election).
            p = KafkaProducer(bootstrap_servers=self.boot[survivor], acks="all", retries=50, retry_backoff_ms=200,
                              max_in_flight_requests_per_connection=1, request_timeout_ms=30000,
                              metadata_max_age_ms=1000, linger_ms=2)
            for i in range(3000):
                v = f"kp-{i}"
                fut = p.send(topic, v.encode(), partition=0)
                fut.add_callback(lambda md, v=v: acked.append(v))
                fut.add_errback(lambda e: failed.append(e))
                time.sleep(0.003)
            p.flush(120)
            p.close(30)
        self.run_through_kill(topic, leader, produce, acked, failed)

    def test_confluent_kafka(self):
        topic = "cf-confluent"
        leader, survivor = self.prepare(topic)
        acked, failed = [], []

        def produce():
            p = Producer({"bootstrap.servers": self.boot[survivor], "acks": "all", "enable.idempotence": True,
                          "message.timeout.ms": 90000})

            def cb(err, msg):
                (failed if err else acked).append(err or msg.value().decode())
            for i in range(3000):
                p.produce(topic, f"ck-{i}".encode(), partition=0, on_delivery=cb)
                p.poll(0.003)
            p.flush(120)
        self.run_through_kill(topic, leader, produce, acked, failed)

    def test_kafkajs(self):
        node = harness.require_program("node", "nodejs")
        if not os.path.isfile(os.path.join(JS_DIR, "node_modules", "kafkajs", "package.json")):
            harness.fail_setup(f"kafkajs is not installed in {JS_DIR}/node_modules; run scripts/setup.sh test")
        topic = "cf-kafkajs"
        leader, survivor = self.prepare(topic)
        proc = subprocess.Popen([node, os.path.join(JS_DIR, "idempotent_produce.js"), self.boot[survivor], topic,
                                 "40000", "7"], cwd=JS_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, KAFKAJS_NO_PARTITIONER_WARNING="1"))
        time.sleep(1.0)
        self.assertIsNone(proc.poll(), "kafkajs ended before the kill")
        self.brokers[leader].kill()
        out, err = proc.communicate(timeout=240)
        self.assertEqual(proc.returncode, 0, f"kafkajs failed: {err[-2000:]}")
        self.assertEqual(json.loads(out.strip().splitlines()[-1])["acked"], 40000)
        self.check(topic, [f"js-{i}" for i in range(40000)], leader)


if __name__ == "__main__":
    harness.main()

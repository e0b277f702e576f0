#!/usr/bin/python3
"""Idempotent producers against samsa-server, with retries forced: the clients reach the broker
through drop_proxy.DropProxy (the broker advertises the proxy's address), which throws away some
Produce responses after the broker has appended the batches and closes the connection, so the
client sends those batches again. librdkafka (confluent-kafka, enable.idempotence=true with its
defaults otherwise: acks=all, 5 in flight), kafkajs (idempotent: true) and kafka-python 3 from
PyPI and Kafka's Java client 4.4 (their defaults: idempotent, acks=all) each write keyed
records to a 3-partition topic; then everything is read back: every record exactly once, each
key's records in the order sent, and librdkafka's delivery reports at the offsets read. A
SIGKILL in the middle of an idempotent stream, then a restart: the producer state rebuilt from
the log recognises the retries.

Run alone: SAMSA_SERVER=build/ci/src/app/samsa-server /usr/bin/python3 tests/interop/test_idempotence.py
"""

import json
import os
import subprocess
import time

import harness
from drop_proxy import DropProxy

ck = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")
PARTITIONS = 3
KEYS = 40
# librdkafka backs off reconnecting up to 10 s; the proxy closes connections on purpose.
FAST_RECONNECT = {"reconnect.backoff.ms": 10, "reconnect.backoff.max.ms": 200}


def create_topic(bootstrap, name):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for fut in admin.create_topics([NewTopic(name, num_partitions=PARTITIONS, replication_factor=1)],
                                   operation_timeout=20, request_timeout=20).values():
        fut.result(timeout=30)


def read_all(bootstrap, topic):
    """Every record of the topic: {partition: [(offset, key, value), ...]}."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "idempotence-check", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest"})
    try:
        md = c.list_topics(topic, timeout=10)
        ends = {}
        for p in md.topics[topic].partitions:
            _, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            ends[p] = hi
        c.assign([TopicPartition(topic, p, 0) for p in ends])
        out = {p: [] for p in ends}
        deadline = time.monotonic() + 60
        while any(len(out[p]) < ends[p] for p in ends) and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            out[m.partition()].append((m.offset(), m.key().decode(), m.value().decode()))
        return out, ends
    finally:
        c.close()


class IdempotenceTest(harness.BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        # The broker advertises the proxy; each test arms it to lose some Produce responses.
        cls.proxy = DropProxy()
        cls.addClassCleanup(cls.proxy.close)
        cls.overrides = {"advertised.listeners": f"PLAINTEXT://{cls.proxy.address}"}
        super().setUpClass()
        cls.proxy.upstream = ("127.0.0.1", cls.broker.port)

    def check_exactly_once(self, topic, sent):
        """`sent`: {key: [values in send order]}. Returns {value: (partition, offset)}."""
        got, ends = read_all(self.proxy.address, topic)
        where = {}
        by_key = {}
        for p, records in got.items():
            self.assertEqual([o for o, _, _ in records], list(range(ends[p])), f"partition {p}: offsets not contiguous")
            for o, k, v in records:
                self.assertNotIn(v, where, f"{v} stored twice: at {where.get(v)} and {(p, o)}")
                where[v] = (p, o)
                by_key.setdefault(k, []).append(v)
        self.assertEqual(sum(len(v) for v in sent.values()), len(where), "records lost or added")
        for k, values in sent.items():
            self.assertEqual(by_key.get(k), values, f"key {k}: records missing or out of order")
        return where

    def test_librdkafka_retries_are_written_once(self):
        topic = "idem-librdkafka"
        create_topic(self.proxy.address, topic)
        self.proxy.arm(every=6, count=30)
        p = Producer({"bootstrap.servers": self.proxy.address, "enable.idempotence": True, "linger.ms": 2,
                      "batch.num.messages": 200, "retry.backoff.ms": 20,
                      **FAST_RECONNECT})
        acks, errors, sent = {}, [], {}

        def cb(err, msg):
            if err is not None:
                errors.append(err)
            else:
                acks[msg.value().decode()] = (msg.partition(), msg.offset())

        for i in range(20_000):
            k = f"key-{i % KEYS}"
            v = f"rd-{i}"
            sent.setdefault(k, []).append(v)
            while True:
                try:
                    p.produce(topic, key=k, value=v, on_delivery=cb)
                    break
                except BufferError:
                    p.poll(0.05)
            p.poll(0)
        self.assertEqual(p.flush(120), 0, "messages left undelivered")
        self.assertEqual(errors, [])
        self.assertGreaterEqual(self.proxy.dropped, 10, "the proxy lost too few responses to test retries")
        where = self.check_exactly_once(topic, sent)
        self.assertEqual(acks, where, "delivery reports disagree with where the records are")

    def run_external_producer(self, name, argv, topic, prefix, count, **run_args):
        """Runs a client program that sends `count` records "<prefix>-<i>" to `topic` with key
        "key-<i % KEYS>" through the armed proxy and prints {"acked": n[, "offsets": {...}]};
        checks every record is stored once, in order per key, and (when it reports them) at the
        offsets it was acknowledged with."""
        r = subprocess.run(argv, capture_output=True, text=True, timeout=240, **run_args)
        if r.returncode != 0:
            raise AssertionError(f"{name} exited with {r.returncode}\n{r.stderr[-4000:]}\n{r.stdout}")
        result = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertEqual(result["acked"], count)
        self.assertGreaterEqual(self.proxy.dropped, 10, "the proxy lost too few responses to test retries")
        sent = {}
        for i in range(count):
            sent.setdefault(f"key-{i % KEYS}", []).append(f"{prefix}-{i}")
        where = self.check_exactly_once(topic, sent)
        if "offsets" in result:
            self.assertEqual({v: tuple(po) for v, po in result["offsets"].items()}, where,
                             "acknowledged offsets disagree with where the records are")

    def test_kafkajs_retries_are_written_once(self):
        node = harness.require_program("node", "nodejs")
        if not os.path.isfile(os.path.join(JS_DIR, "node_modules", "kafkajs", "package.json")):
            harness.fail_setup(f"kafkajs is not installed in {JS_DIR}/node_modules; run scripts/setup.sh test")
        topic = "idem-kafkajs"
        create_topic(self.proxy.address, topic)
        self.proxy.arm(every=5, count=20)
        self.run_external_producer(
            "idempotent_produce.js",
            [node, os.path.join(JS_DIR, "idempotent_produce.js"), self.proxy.address, topic, "6000", str(KEYS)],
            topic, "js", 6_000, env=dict(os.environ, KAFKAJS_NO_PARTITIONER_WARNING="1"), cwd=JS_DIR)

    def test_kafka_python3_retries_are_written_once(self):
        """kafka-python 3 from PyPI with its defaults (idempotent, acks=all)."""
        topic = "idem-kafka-python"
        create_topic(self.proxy.address, topic)
        self.proxy.arm(every=5, count=20)
        self.run_external_producer(
            "kafka_python3_eos.py",
            [harness.venv_python(), os.path.join(HERE, "kafka_python3_eos.py"), "idempotent", self.proxy.address,
             topic, "6000", str(KEYS)],
            topic, "kp", 6_000)

    def test_java_client_defaults_retries_are_written_once(self):
        """Kafka's Java client (4.4) with its default producer settings: idempotent, acks=all."""
        topic = "idem-java"
        create_topic(self.proxy.address, topic)
        self.proxy.arm(every=5, count=20)
        self.run_external_producer(
            "the Java program", harness.java_command("idempotent", self.proxy.address, topic, "6000", str(KEYS)),
            topic, "java", 6_000)

    def test_producer_state_survives_sigkill(self):
        topic = "idem-kill"
        create_topic(self.proxy.address, topic)
        p = Producer({"bootstrap.servers": self.proxy.address, "enable.idempotence": True, "linger.ms": 2,
                      "message.timeout.ms": 60_000, **FAST_RECONNECT})
        errors, sent = [], {}

        def cb(err, msg):
            if err is not None:
                errors.append(err)

        def send(lo, hi):
            for i in range(lo, hi):
                k = f"key-{i % KEYS}"
                v = f"kill-{i}"
                sent.setdefault(k, []).append(v)
                p.produce(topic, key=k, value=v, on_delivery=cb)
                p.poll(0)

        self.proxy.arm(every=7, count=10)
        send(0, 3_000)
        self.assertEqual(p.flush(60), 0)
        # Mid-stream: records in flight when the broker dies are retried by the same producer
        # (same id, same sequences) once it is back.
        send(3_000, 6_000)
        self.broker.kill()
        self.broker.restart()
        self.proxy.upstream = ("127.0.0.1", self.broker.port)
        send(6_000, 8_000)
        self.assertEqual(p.flush(90), 0, "messages left undelivered")
        self.assertEqual(errors, [])
        self.check_exactly_once(topic, sent)


if __name__ == "__main__":
    harness.main()

#!/usr/bin/python3
"""confluent-kafka (librdkafka) against samsa-server: every codec with acks=all, consumers with a
group.id but manual assign() and no commits, restart, SIGKILL during an acks=all produce loop.

Run alone: SAMSA_SERVER=build/ci/src/app/samsa-server /usr/bin/python3 tests/interop/test_confluent_kafka.py
"""

import sys
import threading
import time

import harness
import workload

ck = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
PARTITIONS = 3


def create_topic(bootstrap, name, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for topic, fut in admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                                          operation_timeout=20, request_timeout=20).items():
        fut.result(timeout=30)  # raises KafkaException on an error
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        md = admin.list_topics(topic=name, timeout=10)
        t = md.topics.get(name)
        if t is not None and t.error is None and len(t.partitions) == partitions:
            return
        time.sleep(0.1)
    raise AssertionError(f"topic {name} does not show {partitions} partitions in Metadata")


def produce(bootstrap, topic, msgs, codec):
    p = Producer({"bootstrap.servers": bootstrap, "client.id": "interop-librdkafka", "acks": "all",
                  "compression.type": codec, "linger.ms": 5, "enable.idempotence": False})
    acks, errors = {}, []

    def on_delivery(i):
        def cb(err, msg):
            if err is not None:
                errors.append((i, err))
            else:
                acks[i] = (msg.partition(), msg.offset())
        return cb

    for i, key, value, headers in msgs:
        while True:
            try:
                p.produce(topic, key=key, value=value, headers=headers, on_delivery=on_delivery(i))
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(60)
    if left or errors:
        raise AssertionError(f"{topic}: {left} messages undelivered, errors {errors[:3]}")
    return acks


def consumer(bootstrap, **extra):
    cfg = {"bootstrap.servers": bootstrap, "group.id": "interop-unused-group", "enable.auto.commit": False,
           "auto.offset.reset": "earliest", "fetch.wait.max.ms": 100, "client.id": "interop-librdkafka"}
    cfg.update(extra)
    return Consumer(cfg)


def consume(bootstrap, topic, partitions, expected, timeout=90.0):
    c = consumer(bootstrap)
    try:
        c.assign([TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in range(partitions)])
        out = []

        def take(t):
            for m in c.consume(num_messages=5000, timeout=t):
                if m.error() is not None:
                    raise AssertionError(f"{topic}: consumer error {m.error()}")
                ts_type, ts = m.timestamp()
                out.append(workload.Consumed(m.partition(), m.offset(), m.key(), m.value(), m.headers(), ts))

        deadline = time.monotonic() + timeout
        while len(out) < expected and time.monotonic() < deadline:
            take(0.5)
        take(0.3)
        return out
    finally:
        c.close()


def read_everything(bootstrap, topic, partitions, timeout=60.0):
    """{(partition, offset): (key, value)} up to the high watermarks, and the watermarks."""
    c = consumer(bootstrap)
    try:
        ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
        c.assign([TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in range(partitions)])
        stored = {}
        next_offset = {p: 0 for p in range(partitions)}
        deadline = time.monotonic() + timeout
        while any(next_offset[p] < ends[p] for p in range(partitions)):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read up to {ends} in {timeout}s (at {next_offset})")
            for m in c.consume(num_messages=5000, timeout=0.5):
                if m.error() is not None:
                    raise AssertionError(f"{topic}: consumer error {m.error()}")
                stored[(m.partition(), m.offset())] = (m.key(), m.value())
                next_offset[m.partition()] = m.offset() + 1
        return stored, ends
    finally:
        c.close()


class AckedLoop:
    """Produces with acks=all on a thread until stopped; records acknowledged messages."""

    def __init__(self, bootstrap, topic):
        self.topic = topic
        self.acked, self.failed = [], []
        self.sent = 0
        self._stop = threading.Event()
        self._p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2, "retries": 0,
                            "message.timeout.ms": 5000, "enable.idempotence": False})
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _cb(self, err, msg):
        if err is None:
            self.acked.append((msg.partition(), msg.offset(), msg.key(), msg.value()))
        else:
            self.failed.append(err)

    def _run(self):
        i = 0
        while not self._stop.is_set():
            try:
                self._p.produce(self.topic, key=f"k{i % 13}".encode(), value=f"acked-{i}".encode(),
                                on_delivery=self._cb)
                self.sent += 1
                i += 1
            except BufferError:
                pass
            self._p.poll(0 if i % 200 else 0.001)
        self._p.purge()
        self._p.flush(10)

    def wait_acked(self, n, timeout=60.0):
        deadline = time.monotonic() + timeout
        while len(self.acked) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.acked)} acknowledged ({len(self.failed)} failed)")
            time.sleep(0.02)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=60)
        if self._thread.is_alive():
            raise AssertionError("the producer thread did not stop")
        self._p = None  # no reconnects to the restarted broker
        return list(self.acked)


class ConfluentKafkaTest(harness.BrokerTestCase):
    produced = {}

    def test_0_client_versions(self):
        sys.stderr.write(f"  [confluent-kafka {ck.version()[0]}, librdkafka {ck.libversion()[0]}]\n")
        self.assertGreaterEqual(ck.libversion()[1], 0x01000000, "librdkafka older than 1.0")

    def test_1_every_codec_round_trips(self):
        for codec in CODECS:
            with self.subTest(codec=codec):
                topic = f"ck-{codec}"
                create_topic(self.broker.bootstrap, topic, PARTITIONS)
                since = time.time() * 1000
                msgs = workload.messages(topic)
                with harness.Timer(f"produce {topic}"):
                    acks = produce(self.broker.bootstrap, topic, msgs, codec)
                with harness.Timer(f"consume {topic}"):
                    records = consume(self.broker.bootstrap, topic, PARTITIONS, len(msgs))
                by_partition = workload.check_consumed(self, topic, records, partitions=PARTITIONS, since_ms=since)
                for p, rows in by_partition.items():
                    for offset, i, _ in rows:
                        self.assertEqual(acks[i], (p, offset), f"{topic}: delivery report of message {i}")
                ConfluentKafkaTest.produced[topic] = len(msgs)

    def test_2_everything_readable_after_restart(self):
        self.assertEqual(len(self.produced), len(CODECS), "test_1 did not produce every codec's topic")
        self.restart_clean()
        for topic, count in sorted(self.produced.items()):
            with self.subTest(topic=topic):
                records = consume(self.broker.bootstrap, topic, PARTITIONS, count)
                workload.check_consumed(self, topic, records, count=count, partitions=PARTITIONS)

    def test_3_acknowledged_messages_survive_sigkill(self):
        topic = "ck-sigkill"
        create_topic(self.broker.bootstrap, topic, PARTITIONS)
        loop = AckedLoop(self.broker.bootstrap, topic)
        try:
            loop.wait_acked(5000)
        finally:
            self.broker.kill()
            acked = loop.stop()
        sys.stderr.write(f"  [sigkill: {loop.sent} sent, {len(acked)} acked, {len(loop.failed)} failed]\n")
        self.assertGreaterEqual(len(acked), 5000)
        self.broker.restart()
        stored, ends = read_everything(self.broker.bootstrap, topic, PARTITIONS)
        workload.check_acked_present(self, acked, stored)
        self.restart_clean()
        again, ends_again = read_everything(self.broker.bootstrap, topic, PARTITIONS)
        self.assertEqual(ends_again, ends)
        self.assertEqual(again, stored)

    def test_4_topic_names_up_to_249_characters(self):
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        names = ["n" * 240, "x" * 241, "y" * 248, "z" * 249]
        for name in names:
            with self.subTest(length=len(name)):
                create_topic(self.broker.bootstrap, name, 2)
                msgs = [(i, f"k{i}".encode(), f"v{i}".encode(), None) for i in range(20)]
                produce(self.broker.bootstrap, name, msgs, "none")
                records = consume(self.broker.bootstrap, name, 2, len(msgs))
                self.assertEqual(len(records), len(msgs))
        fut = admin.create_topics([NewTopic("w" * 250, num_partitions=1, replication_factor=1)],
                                  request_timeout=20)["w" * 250]
        with self.assertRaises(ck.KafkaException) as cm:
            fut.result(timeout=30)
        self.assertEqual(cm.exception.args[0].code(), ck.KafkaError.TOPIC_EXCEPTION)
        # They survive a restart, and can be deleted (the deletion rename fits the name limit).
        self.restart_clean()
        self.assertEqual(len(read_everything(self.broker.bootstrap, "z" * 249, 2)[0]), 20)
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        for name, fut in admin.delete_topics(names, operation_timeout=20, request_timeout=20).items():
            fut.result(timeout=30)
        self.restart_clean()
        md = AdminClient({"bootstrap.servers": self.broker.bootstrap}).list_topics(timeout=10)
        for name in names:
            self.assertNotIn(name, md.topics)


if __name__ == "__main__":
    harness.main()

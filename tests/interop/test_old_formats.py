#!/usr/bin/python3
"""Old message formats mixed with v2 on one partition, read back by old and new consumers.

Producers, in this order, each writing one segment of the same single-partition topic:
kafka-python pinned to api_version (0, 9) (Produce v1, magic 0) and (0, 10) (Produce v2, magic 1)
under none/gzip/snappy/lz4 (magic 0 lz4 uses Kafka's old frame checksum), kafka-python's default
(Produce v3+, record batch v2, with headers), librdkafka (v2), librdkafka pinned to 0.9.0 with
api.version.request=false (Produce v1, magic 0), and magic 0 and 1 again after the v2 data. Every consumer,
kafka-python at (0, 8, 2) (Fetch v0), (0, 9) (Fetch v1), (0, 10) (Fetch v2), (0, 10, 1) (Fetch v3)
and its default, and librdkafka (current, and pinned to 0.9.0: Fetch v1; librdkafka pinned to
0.10.0 or later asks ApiVersions anyway, so that pin would test nothing), must read every message in order
with the right key and value; the format each old consumer receives is checked where the client
shows it (magic 0 has no timestamp type; magic 0 and 1 carry no headers).

Run alone: SAMSA_SERVER=build/ci/src/app/samsa-server /usr/bin/python3 tests/interop/test_old_formats.py
"""

import sys
import time

import harness
import kafka_python_client as kp

ck = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

TOPIC = "legacy-mixed"
PER_SEGMENT = 150

# (segment name, client, protocol pin, codec)
SEGMENTS = [
    ("v09-none", "kafka-python", (0, 9), None),
    ("v09-gzip", "kafka-python", (0, 9), "gzip"),
    ("v09-snappy", "kafka-python", (0, 9), "snappy"),
    ("v09-lz4", "kafka-python", (0, 9), "lz4"),
    ("v010-none", "kafka-python", (0, 10), None),
    ("v010-gzip", "kafka-python", (0, 10), "gzip"),
    ("v010-snappy", "kafka-python", (0, 10), "snappy"),
    ("v010-lz4", "kafka-python", (0, 10), "lz4"),
    ("v2-kp-gzip", "kafka-python", None, "gzip"),
    ("v2-kp-lz4", "kafka-python", None, "lz4"),
    ("v2-rdk-snappy", "librdkafka", None, "snappy"),
    ("v2-rdk-none", "librdkafka", None, "none"),
    ("rdk09-gzip", "librdkafka", "0.9.0", "gzip"),
    ("v09-after-v2", "kafka-python", (0, 9), "gzip"),
    ("v010-after-v2", "kafka-python", (0, 10), None),
]


def is_v2(segment):
    return segment[2] is None


def expected_messages():
    out = []
    for seg in SEGMENTS:
        name = seg[0]
        for i in range(PER_SEGMENT):
            key = f"{name}-k{i % 7}".encode()
            value = f"{name}|{i:04d}|".encode() + b"legacy-format-value " * (1 + i % 5)
            headers = [("seg", name.encode()), ("i", str(i).encode())] if is_v2(seg) else []
            out.append((name, key, value, headers))
    return out


def produce_kafka_python(bootstrap, pin, codec, msgs):
    cfg = {"compression_type": codec, "linger_ms": 5}
    if pin is not None:
        cfg["api_version"] = pin
    kp.produce(bootstrap, TOPIC, [(i, k, v, h) for i, (_, k, v, h) in enumerate(msgs)],
               with_headers=pin is None, **cfg)


def produce_librdkafka(bootstrap, pin, codec, msgs):
    cfg = {"bootstrap.servers": bootstrap, "compression.type": codec, "linger.ms": 5, "acks": "all",
           "enable.idempotence": False, "max.in.flight.requests.per.connection": 1}
    if pin is not None:
        cfg.update({"api.version.request": False, "broker.version.fallback": pin})
    p = Producer(cfg)
    errors = []
    for _, k, v, h in msgs:
        kw = {"headers": h} if pin is None else {}
        p.produce(TOPIC, key=k, value=v, partition=0,
                  on_delivery=lambda err, m: errors.append(err) if err is not None else None, **kw)
        p.poll(0)
    left = p.flush(60)
    if left or errors:
        raise AssertionError(f"librdkafka ({pin or 'current'}): {left} undelivered, errors {errors[:3]}")


def consume_kafka_python(bootstrap, pin, expected_count):
    cfg = {} if pin is None else {"api_version": pin}
    c = kp.KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         fetch_max_wait_ms=100, client_id=f"interop-{pin}", **cfg)
    try:
        tp = kp.TopicPartition(TOPIC, 0)
        c.assign([tp])
        c.seek_to_beginning(tp)
        out = []
        deadline = time.monotonic() + 60
        while len(out) < expected_count and time.monotonic() < deadline:
            for recs in c.poll(timeout_ms=500).values():
                out.extend((r.offset, r.key, r.value, list(r.headers or []), r.timestamp_type) for r in recs)
        for recs in c.poll(timeout_ms=300).values():
            out.extend((r.offset, r.key, r.value, list(r.headers or []), r.timestamp_type) for r in recs)
        return out
    finally:
        c.close()


def consume_librdkafka(bootstrap, pin, expected_count):
    cfg = {"bootstrap.servers": bootstrap, "group.id": "interop-unused", "enable.auto.commit": False,
           "fetch.wait.max.ms": 100}
    if pin is not None:
        cfg.update({"api.version.request": False, "broker.version.fallback": pin})
    c = Consumer(cfg)
    try:
        c.assign([TopicPartition(TOPIC, 0, ck.OFFSET_BEGINNING)])
        out = []
        deadline = time.monotonic() + 60
        while len(out) < expected_count and time.monotonic() < deadline:
            for m in c.consume(num_messages=1000, timeout=0.5):
                if m.error() is not None:
                    raise AssertionError(f"librdkafka ({pin}) consumer error: {m.error()}")
                ts_type, _ = m.timestamp()
                out.append((m.offset(), m.key(), m.value(), list(m.headers() or []), ts_type))
        return out
    finally:
        c.close()


class OldFormatsTest(harness.BrokerTestCase):
    def setUp(self):
        if not hasattr(OldFormatsTest, "expected"):
            kp.create_topic(self.broker.bootstrap, TOPIC, 1)
            OldFormatsTest.expected = self.produce_all()

    def produce_all(self):
        msgs = expected_messages()
        for n, seg in enumerate(SEGMENTS):
            name, client, pin, codec = seg
            part = msgs[n * PER_SEGMENT:(n + 1) * PER_SEGMENT]
            with harness.Timer(f"produce {name}"):
                if client == "kafka-python":
                    produce_kafka_python(self.broker.bootstrap, pin, codec, part)
                else:
                    produce_librdkafka(self.broker.bootstrap, pin, codec, part)
        return msgs

    def check(self, who, got, headers, magic0=False):
        exp = self.expected
        self.assertEqual(len(got), len(exp), f"{who}: read {len(got)} records, {len(exp)} were produced")
        for n, ((offset, key, value, hdrs, ts_type), (seg, k, v, h)) in enumerate(zip(got, exp)):
            self.assertEqual(offset, n, f"{who}: record {n} has offset {offset}")
            self.assertEqual((key, value), (k, v), f"{who}: record {n} (segment {seg})")
            self.assertEqual(hdrs, h if headers else [], f"{who}: headers of record {n} (segment {seg})")
            if magic0:
                self.assertIsNone(ts_type, f"{who}: record {n} is not magic 0 (it has a timestamp type)")

    def test_kafka_python_consumers(self):
        cases = [((0, 8, 2), False, True), ((0, 9), False, True), ((0, 10), False, False),
                 ((0, 10, 1), False, False), (None, True, False)]
        for pin, headers, magic0 in cases:
            with self.subTest(api_version=pin or "default"):
                got = consume_kafka_python(self.broker.bootstrap, pin, len(self.expected))
                self.check(f"kafka-python {pin or 'default'}", got, headers, magic0)
                if pin in ((0, 10), (0, 10, 1)):
                    self.assertTrue(all(r[4] is not None for r in got), f"{pin}: magic 0 records in a v2/v3 fetch")

    def test_librdkafka_consumers(self):
        for pin, headers in ((None, True), ("0.9.0", False)):
            with self.subTest(pin=pin or "current"):
                got = consume_librdkafka(self.broker.bootstrap, pin, len(self.expected))
                self.check(f"librdkafka {pin or 'current'}", got, headers)

    def test_z_everything_again_after_restart(self):
        self.restart_clean()
        got = consume_kafka_python(self.broker.bootstrap, (0, 9), len(self.expected))
        self.check("kafka-python (0, 9) after restart", got, False, magic0=True)
        got = consume_kafka_python(self.broker.bootstrap, None, len(self.expected))
        self.check("kafka-python default after restart", got, True)
        sys.stderr.write(f"  [{len(got)} records in {len(SEGMENTS)} segments]\n")


if __name__ == "__main__":
    harness.main()

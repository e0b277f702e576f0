"""Scenarios for the current Python clients from PyPI (tests/interop/requirements.txt), run with
build/venv's Python by test_python_clients.py; each prints one JSON line of what it saw.

    current_python_clients.py confluent BOOTSTRAP TOPIC   confluent-kafka 2 (bundled librdkafka)
    current_python_clients.py aiokafka BOOTSTRAP TOPIC    aiokafka
    current_python_clients.py kafka-python BOOTSTRAP TOPIC  kafka-python 3 (no transactions here:
                                                        test_transactions.py has them)

Each: an idempotent acks=all producer writes 1000 keyed records with a header under each codec
the client has here; a group consumer reads the topic back and commits; a transactional producer
aborts one transaction and commits another, and a read_committed consumer sees only the
committed one; confluent-kafka also lists groups and describes the cluster and the topic.
"""

import asyncio
import json
import sys
import time

COUNT = 1000


BASE_TS = 1_700_000_000_000


def expected(codecs):
    return {f"{c}-{i}": f"k-{c}-{i}" for c in codecs for i in range(COUNT)}


def ts_of(value):
    """The timestamp record "<codec>-<i>" is written with."""
    return BASE_TS + int(value.rsplit("-", 1)[1])


class Tally:
    """What a consumer read: every record's key, header and timestamp checked, duplicates and
    offsets going backwards within a partition counted."""

    def __init__(self):
        self.seen, self.bad, self.duplicated, self.out_of_order, self.last = {}, 0, 0, 0, {}

    def add(self, partition, offset, key, value, header, ts):
        if header != value.split("-")[0].encode() or ts != ts_of(value):
            self.bad += 1
        if value in self.seen:
            self.duplicated += 1
        if partition in self.last and offset <= self.last[partition]:
            self.out_of_order += 1
        self.last[partition] = offset
        self.seen[value] = key

    def result(self, codecs):
        return {"read": len(self.seen), "keys_right": self.seen == expected(codecs), "bad_records": self.bad,
                "duplicated": self.duplicated, "out_of_order": self.out_of_order}


def confluent(bootstrap, topic):
    import harness  # this folder's (its consume_to_end runs on the venv's confluent-kafka here)
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 3, 1), NewTopic(topic + "-txn", 1, 1)])[topic].result(30)
    codecs = ("none", "gzip", "snappy", "lz4", "zstd")
    errors = []
    for codec in codecs:
        p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                      "compression.type": codec, "linger.ms": 5})
        for i in range(COUNT):
            p.produce(topic, key=f"k-{codec}-{i}", value=f"{codec}-{i}", headers=[("codec", codec.encode())],
                      timestamp=BASE_TS + i, on_delivery=lambda err, msg: err and errors.append(str(err)))
        left = p.flush(60)
        if left:
            errors.append(f"{left} undelivered ({codec})")
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": topic + "-group", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.subscribe([topic])
    t = Tally()
    deadline = time.monotonic() + 60
    while len(t.seen) < COUNT * len(codecs) and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        t.add(m.partition(), m.offset(), m.key().decode(), m.value().decode(), dict(m.headers() or []).get("codec"),
              m.timestamp()[1])
    c.commit(asynchronous=False)
    committed = sum(tp.offset for tp in c.committed([TopicPartition(topic, p) for p in range(3)], timeout=10))
    c.close()

    tp = Producer({"bootstrap.servers": bootstrap, "transactional.id": topic + "-tx"})
    tp.init_transactions(30)
    for outcome in ("abort", "commit"):
        tp.begin_transaction()
        for i in range(10):
            tp.produce(topic + "-txn", value=f"{outcome}-{i}")
        tp.flush(30)
        (tp.abort_transaction if outcome == "abort" else tp.commit_transaction)(30)
    txn_seen = [m.value().decode() for m in harness.consume_to_end(
        {"bootstrap.servers": bootstrap, "group.id": topic + "-rc", "isolation.level": "read_committed"},
        topic + "-txn", timeout=30)]

    groups = admin.list_consumer_groups().result(30)
    cluster = admin.describe_cluster().result(30)
    described = admin.describe_topics(__import__("confluent_kafka").TopicCollection([topic]))[topic].result(30)
    return {"errors": errors, **t.result(codecs), "committed": committed, "read_committed": txn_seen,
            "groups": sorted(g.group_id for g in groups.valid), "nodes": len(cluster.nodes),
            "partitions": len(described.partitions)}


def kafka_python(bootstrap, topic):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 3, 1)])
    codecs = ("none", "gzip", "snappy", "lz4", "zstd")
    errors = []
    for codec in codecs:
        p = KafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                          compression_type=None if codec == "none" else codec, linger_ms=5)
        futures = [p.send(topic, key=f"k-{codec}-{i}".encode(), value=f"{codec}-{i}".encode(),
                          headers=[("codec", codec.encode())], timestamp_ms=BASE_TS + i) for i in range(COUNT)]
        p.flush(60)
        errors += [str(f.exception) for f in futures if f.failed()]
        p.close()
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=topic + "-group", auto_offset_reset="earliest",
                      enable_auto_commit=False)
    t = Tally()
    deadline = time.monotonic() + 60
    while len(t.seen) < COUNT * len(codecs) and time.monotonic() < deadline:
        for msgs in c.poll(timeout_ms=500).values():
            for m in msgs:
                t.add(m.partition, m.offset, m.key.decode(), m.value.decode(), dict(m.headers).get("codec"), m.timestamp)
    c.commit()
    committed = sum(c.committed(TopicPartition(topic, p)) or 0 for p in range(3))
    c.close()
    groups = [g["group_id"] if isinstance(g, dict) else g[0] for g in admin.list_groups()]
    offsets = admin.list_group_offsets({topic + "-group": None})[topic + "-group"]
    admin.close()
    return {"errors": errors, **t.result(codecs), "committed": committed, "groups": sorted(groups),
            "admin_committed": sum(o.offset for o in offsets.values())}


async def aiokafka_scenario(bootstrap, topic):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 1), NewTopic(topic + "-txn", 1, 1)])
    finally:
        await admin.close()
    codecs = []
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        try:
            p = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                 compression_type=None if codec == "none" else codec, linger_ms=5)
        except (AssertionError, RuntimeError, ValueError):
            continue            # the codec's library is not installed (the test says which it expects)
        await p.start()
        try:
            futures = [await p.send(topic, key=f"k-{codec}-{i}".encode(), value=f"{codec}-{i}".encode(),
                                    headers=[("codec", codec.encode())], timestamp_ms=BASE_TS + i)
                       for i in range(COUNT)]
            await asyncio.gather(*futures)
        finally:
            await p.stop()
        codecs.append(codec)
    c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=topic + "-group", auto_offset_reset="earliest",
                         enable_auto_commit=False)
    await c.start()
    t = Tally()
    try:
        deadline = time.monotonic() + 60
        while len(t.seen) < COUNT * len(codecs) and time.monotonic() < deadline:
            batches = await c.getmany(timeout_ms=500)
            for msgs in batches.values():
                for m in msgs:
                    t.add(m.partition, m.offset, m.key.decode(), m.value.decode(), dict(m.headers).get("codec"),
                          m.timestamp)
        await c.commit()
        committed = 0
        for p in range(3):
            committed += (await c.committed(TopicPartition(topic, p))) or 0
    finally:
        await c.stop()

    tp = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=topic + "-tx")
    await tp.start()
    try:
        for outcome in ("abort", "commit"):
            await tp.begin_transaction()
            for i in range(10):
                await tp.send(topic + "-txn", f"{outcome}-{i}".encode())
            if outcome == "abort":
                await tp.abort_transaction()
            else:
                await tp.commit_transaction()
    finally:
        await tp.stop()
    rc = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed", auto_offset_reset="earliest")
    await rc.start()
    txn_seen = []
    try:
        part = TopicPartition(topic + "-txn", 0)
        rc.assign([part])
        await rc.seek_to_beginning(part)
        end = (await rc.end_offsets([part]))[part]
        deadline = time.monotonic() + 30
        while await rc.position(part) < end and time.monotonic() < deadline:
            for msgs in (await rc.getmany(timeout_ms=500)).values():
                txn_seen += [m.value.decode() for m in msgs]
    finally:
        await rc.stop()
    return {"codecs": codecs, **t.result(codecs), "committed": committed, "read_committed": txn_seen}


def main():
    kind, bootstrap, topic = sys.argv[1:4]
    if kind == "confluent":
        out = confluent(bootstrap, topic)
    elif kind == "kafka-python":
        out = kafka_python(bootstrap, topic)
    elif kind == "aiokafka":
        out = asyncio.run(aiokafka_scenario(bootstrap, topic))
    else:
        raise SystemExit(f"unknown scenario {kind}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()

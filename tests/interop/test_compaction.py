"""A compacted topic written and read by librdkafka (confluent-kafka) and kafka-python.

Both clients write keyed records (and tombstones) under every codec they support into a topic
with cleanup.policy=compact and small segments; the broker's cleaner runs in the background
(min.cleanable.dirty.ratio tiny, backoff short); afterwards both clients read the topic and
must see, for every key, exactly the latest value (or nothing once a tombstone's
delete.retention.ms has passed), with offsets increasing and fewer records than were written.
Records without a key are refused (INVALID_RECORD).
"""

import time
import unittest

import harness
from harness import Broker

harness.require_module("kafka", "python3-kafka")
confluent_kafka = harness.require_module("confluent_kafka", "python3-confluent-kafka")
for _m, _p in (("lz4", "python3-lz4"), ("snappy", "python3-snappy"), ("zstandard", "python3-zstandard")):
    harness.require_module(_m, _p)
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer  # noqa: E402
from kafka import TopicPartition as KTopicPartition  # noqa: E402

KEYS = 40
ROUNDS = 30


class Compaction(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker({"log.cleaner.backoff.ms": 200, "offsets.topic.num.partitions": 1}, name="compaction")
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        cls.broker.close()

    def create(self, name):
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        cfg = {"cleanup.policy": "compact", "segment.bytes": "16384", "min.cleanable.dirty.ratio": "0.01",
               "delete.retention.ms": "1000", "segment.ms": "100"}
        for f in admin.create_topics([NewTopic(name, 1, 1, config=cfg)]).values():
            f.result(30)

    def write(self, topic):
        """Both clients write ROUNDS x KEYS records; some keys end deleted. Returns key → latest."""
        latest = {}
        rd = {c: Producer({"bootstrap.servers": self.broker.bootstrap, "compression.type": c, "linger.ms": 5})
              for c in ("none", "gzip", "snappy", "lz4", "zstd")}
        kp = {c: KafkaProducer(bootstrap_servers=self.broker.bootstrap, compression_type=c, linger_ms=5)
              for c in (None, "gzip", "snappy", "lz4", "zstd")}
        for r in range(ROUNDS):
            for k in range(KEYS):
                key = f"key-{k}".encode()
                value = f"value-{r}-{k}".encode()
                if r == ROUNDS - 1 and k % 5 == 0:
                    value = None  # the last round deletes every fifth key
                if (r + k) % 2:
                    rd[list(rd)[(r + k) % 5]].produce(topic, key=key, value=value)
                else:
                    kp[list(kp)[(r + k) % 5]].send(topic, key=key, value=value)
                latest[key] = value
            for p in rd.values():
                p.flush(30)
            for p in kp.values():
                p.flush(30)
        for p in kp.values():
            p.close()
        return latest

    def read_librdkafka(self, topic):
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": f"reader-{time.time()}",
                      "enable.auto.commit": False, "enable.partition.eof": True})
        try:
            c.assign([TopicPartition(topic, 0, 0)])
            out = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                m = c.poll(0.5)
                if m is None:
                    continue
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        return out
                    continue
                out.append((m.offset(), m.key(), m.value()))
            self.fail("librdkafka did not reach the end of the partition")
        finally:
            c.close()

    def read_kafka_python(self, topic):
        c = KafkaConsumer(bootstrap_servers=self.broker.bootstrap, consumer_timeout_ms=3000,
                          auto_offset_reset="earliest", enable_auto_commit=False)
        try:
            c.assign([KTopicPartition(topic, 0)])
            c.seek_to_beginning()
            return [(m.offset, m.key, m.value) for m in c]
        finally:
            c.close()

    def check(self, records, latest, written):
        offsets = [o for o, _, _ in records]
        self.assertEqual(offsets, sorted(set(offsets)), "offsets must increase")
        seen = {}
        for _, k, v in records:
            seen[k] = v
        for k, v in latest.items():
            if v is None:
                self.assertIsNone(seen.get(k), f"{k}: deleted key still has a value")
            else:
                self.assertEqual(seen.get(k), v, f"{k}: wrong latest value")
        self.assertLess(len(records), written, "nothing was compacted away")

    def test_compacted_topic_with_two_clients(self):
        self.create("compacted")
        latest = self.write("compacted")
        written = ROUNDS * KEYS
        # Roll the last segment (segment.ms) and give the cleaner time; wait until the record count
        # is close to the key count.
        deadline = time.monotonic() + 60
        while True:
            time.sleep(1)
            # A write after segment.ms rolls the active segment so the rest becomes cleanable.
            p = Producer({"bootstrap.servers": self.broker.bootstrap})
            p.produce("compacted", key=b"roller", value=str(time.time()).encode())
            p.flush(10)
            recs = self.read_librdkafka("compacted")
            keys_with_values = sum(1 for v in latest.values() if v is not None)
            if len(recs) <= keys_with_values + KEYS // 5 + 20 or time.monotonic() > deadline:
                break
        latest[b"roller"] = recs[-1][2]
        for reader in (self.read_librdkafka, self.read_kafka_python):
            recs = reader("compacted")
            self.check(recs, latest, written)
        self.assertIn("cleaned", self.broker.log_text())

    def test_record_without_key_is_refused(self):
        self.create("needs-keys")
        errors = []
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "message.send.max.retries": 0})
        p.produce("needs-keys", value=b"no key", on_delivery=lambda err, msg: errors.append(err))
        p.flush(30)
        self.assertEqual(len(errors), 1)
        self.assertIsNotNone(errors[0])
        self.assertEqual(errors[0].code(), KafkaError.INVALID_RECORD)


if __name__ == "__main__":
    harness.main()

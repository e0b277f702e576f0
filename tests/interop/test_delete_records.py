"""DeleteRecords from real clients' admin APIs: kafkajs (admin.deleteTopicRecords) and
librdkafka (rd_kafka_DeleteRecords, through `samsa delete-records`, the counterpart of
kafka-delete-records.sh). The log start offset moves up, whole segments below it go, consumers
asking for an offset below it get OFFSET_OUT_OF_RANGE and their auto.offset.reset applies, and the
new start survives a restart.
"""

import json
import os
import subprocess
import time
import unittest

import harness
from harness import Broker

confluent_kafka = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")


class DeleteRecords(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_program("node", "nodejs")
        if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "kafkajs")):
            raise AssertionError("kafkajs is not installed under tests/interop/js (run scripts/setup.sh test)")
        cls.broker = Broker({"offsets.topic.num.partitions": 1}, name="delete-records")
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        cls.broker.close()

    def fill(self, topic, n=1000):
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        for f in admin.create_topics([NewTopic(topic, 1, 1, config={"segment.bytes": "16384"})]).values():
            f.result(30)
        # Batches must stay below segment.bytes (larger ones are refused, as by Kafka).
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "linger.ms": 2, "batch.size": 4096})
        errors = []
        for i in range(n):
            p.produce(topic, key=str(i).encode(), value=(f"value-{i}-" + "x" * 50).encode(),
                      on_delivery=lambda err, msg: err and errors.append(err))
        p.flush(30)
        self.assertEqual(errors, [])

    def watermarks(self, topic):
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "wm"})
        try:
            return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        finally:
            c.close()

    def first_offset_read(self, topic, start, reset):
        """Where a consumer asking for `start` actually begins (after auto.offset.reset)."""
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": f"g-{time.time()}",
                      "auto.offset.reset": reset, "enable.auto.commit": False})
        try:
            c.assign([TopicPartition(topic, 0, start)])
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                m = c.poll(0.5)
                if m is None:
                    continue
                if m.error():
                    return ("error", m.error().code())
                return ("offset", m.offset())
            self.fail("no message and no error within 20 s")
        finally:
            c.close()

    def check_after_delete(self, topic, low):
        self.assertEqual(self.watermarks(topic), (low, 1000))
        self.assertEqual(self.first_offset_read(topic, 0, "earliest"), ("offset", low))
        self.assertEqual(self.first_offset_read(topic, low, "earliest"), ("offset", low))
        kind, code = self.first_offset_read(topic, 0, "error")
        self.assertEqual(kind, "error")
        self.assertEqual(code, KafkaError._AUTO_OFFSET_RESET)

    def test_kafkajs_delete_topic_records(self):
        self.fill("js-deletes")
        out = subprocess.run(["node", os.path.join(JS_DIR, "delete_records.js"), self.broker.bootstrap,
                              "js-deletes", "600"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        offsets = json.loads(out.stdout)
        self.assertEqual(offsets[0]["low"], "600")
        self.assertEqual(offsets[0]["high"], "1000")
        self.check_after_delete("js-deletes", 600)

    def test_librdkafka_delete_records(self):
        self.fill("rd-deletes")
        spec = os.path.join(self.broker.tmp, "offsets.json")
        with open(spec, "w") as f:
            json.dump({"version": 1, "partitions": [{"topic": "rd-deletes", "partition": 0, "offset": 450}]}, f)
        out = subprocess.run([harness.samsa_cli(), "delete-records", "--bootstrap-server", self.broker.bootstrap,
                              "--offset-json-file", spec], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)
        self.assertIn("low_watermark: 450", out.stdout)
        self.check_after_delete("rd-deletes", 450)
        # Beyond the high watermark is refused.
        with open(spec, "w") as f:
            json.dump({"version": 1, "partitions": [{"topic": "rd-deletes", "partition": 0, "offset": 5000}]}, f)
        out = subprocess.run([harness.samsa_cli(), "delete-records", "--bootstrap-server", self.broker.bootstrap,
                              "--offset-json-file", spec], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("out of range", (out.stdout + out.stderr).lower())
        # The new log start offset survives a restart.
        self.broker.stop()
        self.broker.restart()
        self.assertEqual(self.watermarks("rd-deletes")[0], 450)


if __name__ == "__main__":
    harness.main()

"""A full disk, for real: the broker's log directory lives on a small tmpfs the test mounts.

Produce until the disk is full: the broker answers KAFKA_STORAGE_ERROR (56), stays up, and every
record acknowledged before is readable; nothing unacknowledged is half there. Then free space:
the directory comes back by itself (the broker checks every tick) and writes resume, and after a
clean restart everything acknowledged is still there. Needs root (mount); without it the test
fails with a message.
"""

import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Broker

confluent_kafka = harness.require_module("confluent_kafka", "python3-confluent-kafka")
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

FS_BYTES = 24 << 20
FILLER_BYTES = 14 << 20
VALUE = b"x" * 8000


class DiskFull(unittest.TestCase):
    def setUp(self):
        self.mnt = tempfile.mkdtemp(prefix="samsa-diskfull-")
        self.addCleanup(shutil.rmtree, self.mnt, ignore_errors=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={FS_BYTES}", "tmpfs", self.mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.fail(f"cannot mount a {FS_BYTES >> 20} MiB tmpfs at {self.mnt} (this test needs root): {r.stderr}")
        self.addCleanup(subprocess.run, ["umount", "-l", self.mnt], capture_output=True)
        self.filler = os.path.join(self.mnt, "filler")
        with open(self.filler, "wb") as f:
            f.write(b"\0" * FILLER_BYTES)
        self.broker = Broker({"log.dirs": os.path.join(self.mnt, "data"), "log.segment.bytes": 1 << 20,
                              "offsets.topic.num.partitions": 1}, name="diskfull")
        self.addCleanup(self.broker.close)
        self.broker.start()

    def produce_one(self, producer, i):
        """Produces record i and waits for its delivery report; returns the error or None."""
        result = {}

        def report(err, msg):
            result["err"] = err
            result["offset"] = None if err else msg.offset()

        producer.produce("full", key=str(i).encode(), value=VALUE, on_delivery=report)
        producer.flush(30)
        self.assertIn("err", result, "no delivery report within 30 s")
        return result["err"], result["offset"]

    def read_all(self):
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "disk-full-reader",
                      "enable.auto.commit": False, "enable.partition.eof": True})
        try:
            c.assign([TopicPartition("full", 0, 0)])
            out = []
            idle = time.monotonic()
            while time.monotonic() - idle < 5:
                m = c.poll(0.5)
                if m is None:
                    continue
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        break
                    continue
                out.append((m.offset(), int(m.key()), m.value()))
                idle = time.monotonic()
            return out
        finally:
            c.close()

    def test_disk_full_then_space_freed(self):
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        for f in admin.create_topics([NewTopic("full", 1, 1)]).values():
            f.result(30)
        producer = Producer({"bootstrap.servers": self.broker.bootstrap, "acks": 1, "linger.ms": 0,
                             "message.send.max.retries": 0, "enable.idempotence": False})
        acked = []
        error = None
        for i in range(5000):
            err, off = self.produce_one(producer, i)
            if err is not None:
                error = err
                break
            acked.append((off, i))
        self.assertIsNotNone(error, "the disk never filled up")
        self.assertEqual(error.code(), KafkaError.KAFKA_STORAGE_ERROR, f"unexpected error {error}")
        self.assertGreater(len(acked), 100)
        self.assertTrue(self.broker.alive())
        # Later writes are refused too, and nothing acknowledged is lost or changed.
        err, _ = self.produce_one(producer, 99999)
        self.assertIsNotNone(err)
        got = self.read_all()
        self.assertEqual([(o, k) for o, k, _ in got], acked)
        self.assertTrue(all(v == VALUE for _, _, v in got))

        # Free space: the broker notices and accepts writes again without a restart.
        os.remove(self.filler)
        deadline = time.monotonic() + 20
        while True:
            err, off = self.produce_one(producer, 100000)
            if err is None:
                break
            self.assertLess(time.monotonic(), deadline,
                            f"writes did not resume after space was freed: {err}\n{self.broker.log_tail()}")
            time.sleep(0.5)
        self.assertEqual(off, len(acked))
        got = self.read_all()
        self.assertEqual(len(got), len(acked) + 1)
        producer.flush(10)
        self.assertIn("offline for writes", self.broker.log_text())
        self.assertIn("back online", self.broker.log_text())

        self.broker.stop()
        self.broker.restart()
        got = self.read_all()
        self.assertEqual([(o, k) for o, k, _ in got][: len(acked)], acked)
        self.assertEqual(len(got), len(acked) + 1)


if __name__ == "__main__":
    harness.main()
